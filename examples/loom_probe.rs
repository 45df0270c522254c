use crosscheck::resources::*;
use crosscheck::{Checker, Scheduler};
use std::time::Instant;
fn main() {
    let t = Instant::now();
    let r = Checker::<LockedCounter>::new().threads(2).ops_per_thread(200).post_ops(1).scheduler(Scheduler::Stress).iterations(100).seed(1).run();
    println!("{:?} {:?}", r.map(|r| r.schedules()).map_err(|f| f.to_string()), t.elapsed());
    let t = Instant::now();
    let r = Checker::<LockedMap>::new().threads(2).ops_per_thread(200).scheduler(Scheduler::Stress).iterations(100).seed(1).run();
    println!("{:?} {:?}", r.map(|r| r.schedules()).map_err(|f| f.to_string()), t.elapsed());
}
