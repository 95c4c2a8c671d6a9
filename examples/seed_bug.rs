//! Seeded scheduling finds an order-dependent bug: a check-then-act race across an `.await`.
//!
//! A toy bank: `withdraw` checks the balance, then awaits an approval, then debits. Two
//! withdrawals from the same account are each correct alone, and in FIFO order they even
//! pass together. Under other orders both can pass the check before either debits, and the
//! account goes negative. The demo runs the same program under seeds 0, 1, 2, ... until
//! one breaks the invariant, then replays that seed to show that the failure is the same
//! every time, which is what makes it debuggable. It exits 0: it is a demo, not a test.
//!
//! In a test suite the same search is a loop over `Builder::rng_seed`, or simply running
//! the tests: every `#[arbor::test]` runs under a seed and prints it when it fails
//! (`ARBOR_SEED=<seed> cargo test <name>` replays it).
//!
//! Run: `cargo run --example seed_bug`

use arbor::runtime::Builder;
use arbor::sync::Mutex;
use std::sync::Arc;

/// The most seeds tried before giving up.
const SEEDS: u64 = 1_000;

/// One account, and the log of what happened to it.
#[derive(Default)]
struct Bank {
    balance: Mutex<i64>,
    log: std::sync::Mutex<Vec<String>>,
}

impl Bank {
    fn note(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }

    /// The bug: the check and the debit are two critical sections with an `.await`
    /// between them, so another withdrawal may run in the gap.
    async fn withdraw(&self, who: &str, amount: i64, chores: usize) {
        for _ in 0..chores {
            arbor::yield_now().await; // other work before paying
        }
        let balance = *self.balance.lock().await;
        if balance < amount {
            self.note(format!("{who}: declined ({balance} < {amount})"));
            return;
        }
        self.note(format!("{who}: {balance} >= {amount}, asking for approval"));
        arbor::yield_now().await; // the approval round trip
        *self.balance.lock().await -= amount;
        self.note(format!("{who}: paid {amount}"));
    }

    /// The fix: the check and the debit under one lock, held across the approval.
    async fn withdraw_fixed(&self, who: &str, amount: i64, chores: usize) {
        for _ in 0..chores {
            arbor::yield_now().await;
        }
        let mut balance = self.balance.lock().await;
        if *balance < amount {
            self.note(format!("{who}: declined ({} < {amount})", *balance));
            return;
        }
        arbor::yield_now().await; // the approval round trip, the account locked
        *balance -= amount;
        self.note(format!("{who}: paid {amount}"));
    }

    async fn pay(&self, fixed: bool, who: &str, amount: i64, chores: usize) {
        if fixed {
            self.withdraw_fixed(who, amount, chores).await;
        } else {
            self.withdraw(who, amount, chores).await;
        }
    }
}

/// Runs rent (80) and groceries (50) against a balance of 100; returns the final balance
/// and the log. `fixed`: with `withdraw_fixed`.
fn run(seed: Option<u64>, fixed: bool) -> (i64, Vec<String>) {
    let builder = Builder::new_current_thread();
    let builder = match seed {
        Some(seed) => builder.rng_seed(seed),
        None => builder,
    };
    let rt = builder.build().expect("runtime");
    let bank = Arc::new(Bank::default());
    rt.block_on(async {
        *bank.balance.lock().await = 100;
        let rent = {
            let bank = bank.clone();
            arbor::spawn(async move { bank.pay(fixed, "rent", 80, 0).await })
        };
        let groceries = {
            let bank = bank.clone();
            arbor::spawn(async move { bank.pay(fixed, "groceries", 50, 2).await })
        };
        rent.await.unwrap();
        groceries.await.unwrap();
    });
    let balance = *rt.block_on(bank.balance.lock());
    let log = bank.log.lock().unwrap().clone();
    (balance, log)
}

fn main() {
    let (balance, _) = run(None, false);
    println!("FIFO order: final balance {balance} (the bug does not show)");
    assert!(balance >= 0);

    let Some(seed) = (0..SEEDS).find(|&seed| run(Some(seed), false).0 < 0) else {
        println!("no seed out of {SEEDS} broke the invariant");
        return;
    };
    let (balance, log) = run(Some(seed), false);
    println!("seed {seed} overdraws the account: final balance {balance}");
    for line in &log {
        println!("  {line}");
    }
    for _ in 0..3 {
        assert_eq!(
            run(Some(seed), false),
            (balance, log.clone()),
            "a seed replays its order"
        );
    }
    println!("replayed seed {seed} three more times: the same order and the same overdraft");
    let failing = (0..SEEDS).filter(|&s| run(Some(s), false).0 < 0).count();
    println!("{failing} of {SEEDS} seeds break the invariant");
    let failing_fixed = (0..SEEDS).filter(|&s| run(Some(s), true).0 < 0).count();
    println!("with the check and the debit under one lock: {failing_fixed} of {SEEDS}");
    assert_eq!(failing_fixed, 0);
}
