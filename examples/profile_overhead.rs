//! Profiling aid for benches/overhead.rs: the generated-scenario workload alone, 100,000
//! schedules. `perf record -g target/release/examples/profile_overhead`.
use crosscheck::resources::LockedCounter;
use crosscheck::{Checker, Scheduler};
fn main() {
    let t = std::time::Instant::now();
    for _ in 0..50 {
        Checker::<LockedCounter>::new()
            .threads(2)
            .ops_per_thread(3)
            .init_ops(0)
            .post_ops(0)
            .scheduler(Scheduler::Random)
            .iterations(2000)
            .scenarios(std::env::var("S").map(|s| s.parse().unwrap()).unwrap_or(20))
            .seed(7)
            .run()
            .unwrap();
    }
    println!("{:.0} schedules/s", 100_000.0 / t.elapsed().as_secs_f64());
}
