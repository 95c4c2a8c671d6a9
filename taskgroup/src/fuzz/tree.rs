//! Random trees of groups, checked against a small reference model: the part shared by the
//! `group_tree` fuzz target (`arbor_taskgroup::fuzz::group_tree`) and the proptest
//! (`tests/proptest_trees.rs`, which includes this file with `#[path]`). The includer
//! brings `TaskGroup`, `GroupError` and `CancelScope` into its own scope; this file takes
//! them from `super`, so it compiles inside the library and inside a test crate alike.
//!
//! A tree is a group: a body (returns `Ok`, fails, or sleeps), children, and maybe a
//! canceller (a task outside the group that calls `tg.cancel()` after a few yields). A child
//! succeeds, fails, panics, sleeps (never finishes), does one of the first three inside a
//! shielded scope (so cancellation cannot stop it once started), spawns a sibling through a
//! clone of the handle, or runs a nested group. Trees that could hang (a sleeper nothing
//! cancels) must not be run: see [`Spec::terminates`].
//!
//! [`run_tree`] runs a tree on a chosen runtime flavour and checks:
//! - **the outcome** against the model: which of ok / errors / cancelled / panic the tree
//!   allows, that every reported error is one the tree can produce (no duplicates, nested
//!   groups' errors nested the same way), and the exact kind where nothing races (no
//!   cancellers: failures present means `Err`, panics alone mean a panic, neither means `Ok`);
//! - **the structured guarantee**: when a group's scope returns, or is dropped, every child
//!   future it spawned has already been dropped;
//! - **no leaks**: once the runtime is dropped, every future made was dropped and freed.

use super::{CancelScope, GroupError, TaskGroup};
use arbor_runtime::runtime::{Builder, Runtime};
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

/// Yields a leaf or canceller waits before acting, at most (shuffles the interleavings).
pub const MAX_YIELDS: u8 = 4;
/// Nesting levels of spawned siblings and nested groups, at most.
pub const TREE_DEPTH: u32 = 4;
/// Children per group, at most.
pub const TREE_BRANCHING: u32 = 5;
/// The message prefix of the panics trees make on purpose (kept out of the output).
const PANIC_PREFIX: &str = "arbor-test:";

#[derive(Debug, Clone)]
pub enum Child {
    Ok(u8),
    Fail(u32, u8),
    Panic(u8),
    Sleep,
    /// Succeeds, fails or panics (as `Ok`, `Fail`, `Panic`) inside a shielded scope.
    Shielded(Box<Child>),
    Spawn(Box<Child>),
    Group(Box<Spec>),
}

impl Child {
    /// What the child does, seen through a shield.
    fn unshielded(&self) -> &Child {
        match self {
            Child::Shielded(inner) => inner,
            other => other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Body {
    Ok,
    Fail(u32),
    Sleep,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub body: Body,
    pub children: Vec<Child>,
    /// Yields before a task outside the group cancels it.
    pub canceller: Option<u8>,
}

/// The error children and bodies return: a leaf's id, or a nested group's errors.
#[derive(Debug, Clone, PartialEq)]
pub enum E {
    Leaf(u32),
    Group(Vec<E>),
}

// ====== The reference model =============================================================

impl Spec {
    /// Children of this group, the spawned siblings included (a `Spawn` chain runs in the
    /// same group).
    fn members(&self) -> Vec<&Child> {
        let mut out = Vec::new();
        for child in &self.children {
            let mut c = child;
            loop {
                out.push(c.unshielded());
                match c {
                    Child::Spawn(next) => c = next,
                    _ => break,
                }
            }
        }
        out
    }

    fn has_canceller_below(&self) -> bool {
        self.canceller.is_some()
            || self.members().iter().any(|c| match c {
                Child::Group(sub) => sub.has_canceller_below(),
                _ => false,
            })
    }

    fn has_panic_below(&self) -> bool {
        self.members().iter().any(|c| match c {
            Child::Panic(_) => true,
            Child::Group(sub) => sub.has_panic_below(),
            _ => false,
        })
    }

    fn has_fail_below(&self) -> bool {
        matches!(self.body, Body::Fail(_))
            || self.members().iter().any(|c| match c {
                Child::Fail(..) => true,
                Child::Group(sub) => sub.has_fail_below(),
                _ => false,
            })
    }

    /// Some failure (error or panic) will happen in this group for sure: a source that
    /// nothing inside the group can pre-empt (a canceller of this group could).
    fn surely_fails(&self) -> bool {
        self.canceller.is_none()
            && (matches!(self.body, Body::Fail(_))
                || self.members().iter().any(|c| match c {
                    Child::Fail(..) | Child::Panic(_) => true,
                    Child::Group(sub) => sub.surely_fails(),
                    _ => false,
                }))
    }

    /// Whether the group always finishes, given whether an enclosing group is surely
    /// cancelled (then this one is too).
    pub fn terminates(&self, cancelled_from_above: bool) -> bool {
        let cancelled = cancelled_from_above || self.canceller.is_some() || self.surely_fails();
        cancelled
            || (self.body != Body::Sleep
                && self.members().iter().all(|c| match c {
                    Child::Sleep => false,
                    Child::Group(sub) => sub.terminates(false),
                    _ => true,
                }))
    }

    /// Whether the scope may return `Ok`: nothing in it must fail or sleep.
    fn may_be_ok(&self) -> bool {
        self.body == Body::Ok
            && self.members().iter().all(|c| match c {
                Child::Ok(_) | Child::Spawn(_) => true,
                Child::Fail(..) | Child::Panic(_) | Child::Sleep => false,
                Child::Shielded(_) => unreachable!("members are seen through their shields"),
                // A nested group that returned Ok or was cancelled (by its own canceller)
                // lets its parent child return Ok.
                Child::Group(sub) => sub.may_be_ok() || sub.canceller.is_some(),
            })
    }

    /// Whether `errors` is an error list this group can report.
    fn valid_errors(&self, errors: &[E]) -> bool {
        let mut seen = HashSet::new();
        !errors.is_empty()
            && errors.iter().all(|e| match e {
                E::Leaf(id) => {
                    seen.insert(*id)
                        && (self.body == Body::Fail(*id)
                            || self
                                .members()
                                .iter()
                                .any(|c| matches!(c, Child::Fail(leaf, _) if leaf == id)))
                }
                E::Group(inner) => self.members().iter().any(|c| match c {
                    Child::Group(sub) => sub.valid_errors(inner),
                    _ => false,
                }),
            })
    }
}

#[derive(Debug)]
enum Outcome {
    Ok,
    Errors(Vec<E>),
    Cancelled,
    Panic,
}

/// Checks an outcome against the model; `Err` says why it is impossible.
fn check(spec: &Spec, outcome: &Outcome) -> Result<(), String> {
    let racy = spec.has_canceller_below();
    let (fails, panics) = (spec.has_fail_below(), spec.has_panic_below());
    match outcome {
        Outcome::Ok if !spec.may_be_ok() => return Err("Ok, but something must fail".into()),
        Outcome::Errors(errors) if !spec.valid_errors(errors) => {
            return Err(format!("errors {errors:?} this tree cannot produce"));
        }
        Outcome::Cancelled if spec.canceller.is_none() => {
            return Err("cancelled, but nothing cancels this group".into());
        }
        Outcome::Panic if !panics => return Err("a panic, but no child panics".into()),
        _ => {}
    }
    if !racy {
        let expected = match (fails, panics) {
            (false, false) => matches!(outcome, Outcome::Ok),
            (true, false) => matches!(outcome, Outcome::Errors(_)),
            (false, true) => matches!(outcome, Outcome::Panic),
            (true, true) => matches!(outcome, Outcome::Errors(_) | Outcome::Panic),
        };
        if !expected {
            return Err(format!("nothing races here, yet {outcome:?}"));
        }
    }
    Ok(())
}

// ====== Running a tree ==================================================================

/// What every future of a run shares: counts, and the structured-guarantee violations.
#[derive(Default)]
struct Record {
    made: AtomicUsize,
    dropped: AtomicUsize,
    violations: AtomicUsize,
}

/// Counts a future's life in `record`, and in its group's `live` count.
struct Tracked<F> {
    inner: Pin<Box<F>>,
    record: Arc<Record>,
    live: Arc<AtomicUsize>,
}

impl<F> Tracked<F> {
    fn new(inner: F, record: &Arc<Record>, live: &Arc<AtomicUsize>) -> Tracked<F> {
        record.made.fetch_add(1, SeqCst);
        live.fetch_add(1, SeqCst);
        Tracked {
            inner: Box::pin(inner),
            record: record.clone(),
            live: live.clone(),
        }
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<F> Drop for Tracked<F> {
    fn drop(&mut self) {
        self.record.dropped.fetch_add(1, SeqCst);
        self.live.fetch_sub(1, SeqCst);
    }
}

/// Wraps a group's scope future: when it returns or is dropped, none of the group's
/// children may be alive.
struct Checked<F> {
    scope: Option<Pin<Box<F>>>,
    live: Arc<AtomicUsize>,
    record: Arc<Record>,
}

impl<F: Future> Future for Checked<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let scope = self.scope.as_mut().expect("polled after completion");
        let out = std::task::ready!(scope.as_mut().poll(cx));
        self.scope = None;
        if self.live.load(SeqCst) != 0 {
            self.record.violations.fetch_add(1, SeqCst);
        }
        Poll::Ready(out)
    }
}

impl<F> Drop for Checked<F> {
    fn drop(&mut self) {
        if self.scope.take().is_some() && self.live.load(SeqCst) != 0 {
            self.record.violations.fetch_add(1, SeqCst);
        }
    }
}

async fn yields(n: u8) {
    for _ in 0..n {
        arbor_runtime::yield_now().await;
    }
}

/// Runs `spec` as a group; its result as a nested child sees it.
fn run_group(
    spec: Arc<Spec>,
    record: Arc<Record>,
) -> Pin<Box<dyn Future<Output = Result<(), GroupError<E>>> + Send>> {
    let live = Arc::new(AtomicUsize::new(0));
    let (l, r) = (live.clone(), record.clone());
    let scope = TaskGroup::<E>::scope(move |tg| async move {
        if let Some(n) = spec.canceller {
            let tg = tg.clone();
            drop(arbor_runtime::spawn(async move {
                yields(n).await;
                tg.cancel();
            }));
        }
        for child in &spec.children {
            spawn_child(&tg, child.clone(), &r, &l);
        }
        match spec.body {
            Body::Ok => Ok(()),
            Body::Fail(id) => {
                arbor_runtime::yield_now().await;
                Err(E::Leaf(id))
            }
            Body::Sleep => std::future::pending().await,
        }
    });
    Box::pin(Checked {
        scope: Some(Box::pin(scope)),
        live,
        record,
    })
}

type BoxedChild = Pin<Box<dyn Future<Output = Result<(), E>> + Send>>;

/// The future of a leaf that finishes: succeeds, fails or panics after some yields.
fn leaf(child: Child) -> BoxedChild {
    match child {
        Child::Ok(n) => Box::pin(async move {
            yields(n).await;
            Ok(())
        }),
        Child::Fail(id, n) => Box::pin(async move {
            yields(n).await;
            Err(E::Leaf(id))
        }),
        Child::Panic(n) => Box::pin(async move {
            yields(n).await;
            if n < u8::MAX {
                panic!("{PANIC_PREFIX} child panic");
            }
            Ok(())
        }),
        other => unreachable!("not a finishing leaf: {other:?}"),
    }
}

fn spawn_child(tg: &TaskGroup<E>, child: Child, record: &Arc<Record>, live: &Arc<AtomicUsize>) {
    let fut: BoxedChild = match child {
        leaf_child @ (Child::Ok(_) | Child::Fail(..) | Child::Panic(_)) => leaf(leaf_child),
        Child::Sleep => Box::pin(std::future::pending()),
        Child::Shielded(inner) => Box::pin(async move {
            let work = leaf(*inner);
            CancelScope::shielded()
                .run(work)
                .await
                .expect("nothing cancels the shield itself")
        }),
        Child::Spawn(next) => {
            let (tg2, record, live) = (tg.clone(), record.clone(), live.clone());
            Box::pin(async move {
                arbor_runtime::yield_now().await;
                spawn_child(&tg2, *next, &record, &live);
                Ok(())
            })
        }
        Child::Group(sub) => {
            let record = record.clone();
            Box::pin(async move {
                match run_group(Arc::new(*sub), record).await {
                    Ok(()) => Ok(()),
                    Err(err) if err.is_cancelled() => Ok(()),
                    Err(err) => Err(E::Group(err.into_errors())),
                }
            })
        }
    };
    drop(tg.spawn(Tracked::new(fut, record, live)));
}

pub fn run_tree(spec: Spec, flavour: u8) -> Result<(), String> {
    quiet_tree_panics();
    let rt: Runtime = match flavour % 3 {
        0 => Builder::new_current_thread().build().unwrap(),
        1 => Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap(),
        _ => Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap(),
    };
    let record = Arc::new(Record::default());
    let spec = Arc::new(spec);
    let outcome = rt.block_on(async {
        match catch_unwind(run_group(spec.clone(), record.clone())).await {
            Ok(Ok(())) => Outcome::Ok,
            Ok(Err(err)) if err.is_cancelled() => Outcome::Cancelled,
            Ok(Err(err)) => Outcome::Errors(err.into_errors()),
            Err(_) => Outcome::Panic,
        }
    });
    drop(rt);
    check(&spec, &outcome)?;
    let violations = record.violations.load(SeqCst);
    if violations != 0 {
        return Err(format!("{violations} scope(s) returned with a child alive"));
    }
    let (made, dropped) = (record.made.load(SeqCst), record.dropped.load(SeqCst));
    if made != dropped {
        return Err(format!("{made} child futures made, {dropped} dropped"));
    }
    if Arc::strong_count(&record) != 1 {
        return Err("a future was leaked (the record is still shared)".into());
    }
    Ok(())
}

/// Silences the panic hook for the panics trees make on purpose (messages that start with
/// [`PANIC_PREFIX`]); installed once, it hands every other panic to the hook it replaced.
fn quiet_tree_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("");
            if !msg.starts_with(PANIC_PREFIX) {
                default(info);
            }
        }));
    });
}

/// Resolves to `Err(payload)` if polling `fut` panics (futures' `catch_unwind`, minimal).
fn catch_unwind<F: Future>(
    fut: F,
) -> impl Future<Output = Result<F::Output, Box<dyn std::any::Any + Send>>> {
    let mut fut = Box::pin(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
}

// ====== Numbering =======================================================================

/// Gives every failure a distinct id, so the model can tell them apart.
pub fn number(spec: &mut Spec, next: &mut u32) {
    if let Body::Fail(id) = &mut spec.body {
        *next += 1;
        *id = *next;
    }
    for child in &mut spec.children {
        let mut c = child;
        loop {
            match c {
                Child::Fail(id, _) => {
                    *next += 1;
                    *id = *next;
                    break;
                }
                Child::Spawn(next_child) | Child::Shielded(next_child) => c = next_child,
                Child::Group(sub) => {
                    number(sub, next);
                    break;
                }
                _ => break,
            }
        }
    }
}
