//! arbor's deadlines: `Timeout`, `TimeoutHandle`, `wait_for`, `move_on_after`,
//! `fail_after` (arrive with the deadlines issue).
