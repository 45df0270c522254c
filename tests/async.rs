use crosscheck::resources::*;
use crosscheck::{Checker, FailureKind, Scheduler};

#[test]
fn smoke() {
    let f = Checker::<RacyAsyncCounter>::new().seed(1).run().unwrap_err();
    println!("{f}");
    let r = Checker::<LockedAsyncCounter>::new().seed(1).iterations(2000).run();
    println!("{r:?}");
    r.unwrap();
    let _ = (FailureKind::Deadlock { cycle: vec![] }, Scheduler::Random);
}
