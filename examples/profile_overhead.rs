use crosscheck::resources::{CounterOp, LockedCounter};
use crosscheck::{Checker, Scenario, Scheduler};
fn main() {
    let ops = vec![CounterOp::Inc, CounterOp::Get, CounterOp::Inc];
    let s = Scenario {
        init: vec![],
        threads: vec![ops.clone(), ops],
        post: vec![],
    };
    let t = std::time::Instant::now();
    for _ in 0..10 {
        Checker::<LockedCounter>::new()
            .scenario(s.clone())
            .scheduler(Scheduler::Random)
            .iterations(5000)
            .seed(7)
            .run()
            .unwrap();
    }
    println!("{:.0} schedules/s", 50000.0 / t.elapsed().as_secs_f64());
}
