use crosscheck::resources::*;
use crosscheck::{Checker, Scheduler};
fn main() {
    for _ in 0..2 {
    let r = Checker::<RacyCounter>::new().threads(2).ops_per_thread(200).post_ops(1).scheduler(Scheduler::Stress).iterations(2000).seed(1).run();
    match r { Ok(r) => println!("PASS {r}"), Err(f) => println!("{f}") }
    let r = Checker::<CheckThenInsertMap>::new().threads(2).ops_per_thread(200).scheduler(Scheduler::Stress).iterations(2000).seed(1).run();
    match r { Ok(r) => println!("PASS {r}"), Err(f) => println!("{f}") }
    }
    let r = Checker::<LockedCounter>::new().threads(2).ops_per_thread(200).post_ops(1).scheduler(Scheduler::Stress).iterations(300).seed(1).run();
    match r { Ok(r) => println!("PASS {r}"), Err(f) => println!("{f}") }
}
