//! The checker's own unit tests.

use super::*;
use crate::resources::RacyCounter;
use crate::FailureKind;

/// A token whose scenario still decodes but whose schedule the code no longer offers.
fn token_with_schedule(schedule: Vec<usize>) -> String {
    let failure = Checker::<RacyCounter>::new().run().unwrap_err();
    let mut token = Token::decode(failure.token().unwrap()).unwrap();
    token.schedule = schedule.into_iter().map(scheduler::Choice::Thread).collect();
    token.encode()
}

fn usage(token: String) -> String {
    match Checker::<RacyCounter>::new().scheduler(Scheduler::Replay(token)).run() {
        Err(f) => match f.kind() {
            FailureKind::Usage { message } => message.clone(),
            other => panic!("expected a usage error, got {other:?}"),
        },
        Ok(r) => panic!("replayed: {r}"),
    }
}

#[test]
fn a_schedule_the_code_no_longer_offers_is_a_clear_error() {
    let message = usage(token_with_schedule(vec![7, 7, 7]));
    assert!(
        message.contains("no longer matches the resource's behaviour"),
        "{message}"
    );
    assert!(message.contains("only"), "says which threads could run: {message}");
    let message = usage(token_with_schedule(vec![
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ]));
    assert!(message.contains("no longer matches"), "{message}");
}
