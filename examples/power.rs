//! Scheduling power on the bug zoo (tests/zoo): for every program and scheduler, how many of 20
//! trials (seeds) find the bug within 10,000 schedules, and the mean schedules to the first bug,
//! shrinking off.
//!
//! `cargo run --release --example power` prints the whole table (tens of minutes on 2 cores: the
//! schedulers that miss a 100-thread bug run all 10,000 schedules of every trial). Arguments narrow
//! it: `cargo run --release --example power -- reorder_100 twostage_100` runs those programs only;
//! `trials=5` and `schedulers=Pos,Random` change the rest.

#[path = "../tests/zoo/mod.rs"]
mod zoo;

use std::time::Instant;

use crosscheck::Scheduler;

fn scheduler(name: &str) -> Option<Scheduler> {
    Some(match name {
        "Random" => Scheduler::Random,
        "Pct3" => Scheduler::Pct { depth: 3 },
        "Pos" => Scheduler::Pos,
        "Surw" => Scheduler::Surw,
        "Rff" => Scheduler::Rff,
        "Bounded2" => Scheduler::Bounded { preemptions: 2 },
        "default" => Scheduler::default(),
        _ => return None,
    })
}

fn main() {
    let mut trials = 20u64;
    let mut names: Vec<String> = ["Random", "Pct3", "Surw", "Pos", "Rff", "default"]
        .map(String::from)
        .to_vec();
    let mut only: Vec<String> = Vec::new();
    for arg in std::env::args().skip(1) {
        if let Some(n) = arg.strip_prefix("trials=") {
            trials = n.parse().expect("trials=N takes a number");
        } else if let Some(list) = arg.strip_prefix("schedulers=") {
            names = list.split(',').map(String::from).collect();
        } else {
            only.push(arg);
        }
    }
    for n in &names {
        assert!(
            scheduler(n).is_some(),
            "unknown scheduler {n}: use Random, Pct3, Surw, Pos, Rff, Bounded2 or default"
        );
    }
    let iterations = 10_000;
    println!("== bug zoo: found / {trials} trials, mean schedules to the first bug ({iterations} schedules per trial, shrinking off)");
    print!("{:<14}", "program");
    for n in &names {
        print!(" | {n:>16}");
    }
    println!();
    for program in zoo::programs(true) {
        if !only.is_empty() && !only.iter().any(|o| o == program.name) {
            continue;
        }
        print!("{:<14}", program.name);
        for n in &names {
            let started = Instant::now();
            let mut found = Vec::new();
            for seed in 0..trials {
                match (program.run)(scheduler(n).unwrap(), seed, iterations) {
                    zoo::Outcome::Found(k) => found.push(k),
                    zoo::Outcome::Missed => {}
                    zoo::Outcome::Wrong(why) => panic!("{} under {n}, seed {seed}: not its bug:\n{why}", program.name),
                }
            }
            let mean = if found.is_empty() {
                "-".to_string()
            } else {
                format!("{:.1}", found.iter().sum::<usize>() as f64 / found.len() as f64)
            };
            let cell = format!("{}/{trials} {mean}", found.len());
            print!(" | {cell:>16}");
            eprint!("[{} {n}: {:.1}s] ", program.name, started.elapsed().as_secs_f64());
            use std::io::Write;
            std::io::stdout().flush().ok();
        }
        println!();
    }
}
