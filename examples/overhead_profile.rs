//! One side of the overhead bench's table by width, alone in a process, for a profiler: the
//! instruction counts in README.md ("What a schedule costs") come from
//!
//! ```text
//! cargo build --release --example overhead_profile
//! valgrind --tool=callgrind target/release/examples/overhead_profile raw 8 2000
//! valgrind --tool=callgrind target/release/examples/overhead_profile crosscheck 8 2000
//! ```
//!
//! `raw`: shuttle's `check_random` spawning N threads that each do one `fetch_add`, then asserting
//! the total; `crosscheck`: a correct `AtomicCounter`, N threads x 1 `Inc` then a post `Get`, under
//! `Scheduler::Random`; `together`: raw shuttle with crosscheck's shape (every thread spawned
//! before any runs), so that `crosscheck` against `together` is what crosscheck itself adds;
//! `floor`: `raw` with every operation recorded in a history and judged, the floor under any
//! history checker built on shuttle. All with seed 7, as in `benches/overhead.rs`.
//!
//! `raw-locked` and `crosscheck-locked` run the bench's other workload (a locked counter, 2 threads
//! x 3 operations; the threads argument is ignored), and `floor-locked` runs raw shuttle's side
//! with a history recorded and judged in every execution, the floor under any history checker
//! built on shuttle:
//!
//! ```text
//! valgrind --tool=callgrind target/release/examples/overhead_profile raw-locked 2 4000
//! valgrind --tool=callgrind target/release/examples/overhead_profile floor-locked 2 4000
//! valgrind --tool=callgrind target/release/examples/overhead_profile crosscheck-locked 2 4000
//! ```

#[path = "../benches/support/locked.rs"]
mod locked;
#[path = "../benches/support/width.rs"]
mod width;

const USAGE: &str =
    "usage: overhead_profile <raw|floor|together|crosscheck|raw-locked|floor-locked|crosscheck-locked> <threads> <schedules>";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (side, threads, schedules) = match args.as_slice() {
        [side, threads, schedules] => match (threads.parse::<usize>(), schedules.parse::<usize>()) {
            (Ok(t), Ok(s)) if t > 0 && s > 0 => (side.as_str(), t, s),
            _ => exit_usage("threads and schedules are positive whole numbers"),
        },
        _ => exit_usage("three arguments expected"),
    };
    match side {
        "raw" => width::raw_shuttle_wide(threads, schedules),
        "crosscheck" => width::crosscheck_wide(threads, schedules),
        "together" => width::shuttle_start_together(threads, schedules),
        "floor" => width::raw_with_history(threads, schedules),
        "raw-locked" => locked::raw_shuttle_locked(schedules),
        "crosscheck-locked" => locked::crosscheck_locked(schedules),
        "floor-locked" => locked::shuttle_with_history(schedules),
        other => exit_usage(&format!("unknown side {other:?}")),
    }
}

fn exit_usage(why: &str) -> ! {
    eprintln!("{why}\n{USAGE}");
    std::process::exit(2)
}
