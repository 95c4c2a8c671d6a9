//! Random trees of task groups, cancel scopes, shields and timeouts on virtual time, checked
//! against a reference model: the part shared by the `scope_tree` fuzz target
//! (`arbor_timeouts::fuzz::scope_tree`) and the proptest (`tests/proptest_scope_tree.rs`,
//! which includes this file with `#[path]`). The includer brings `Timeout` and
//! `TimeoutHandle` into its own scope; this file takes them from `super`, so it compiles
//! inside the library and inside a test crate alike.
//!
//! ## A tree
//! An [`Op`] is async code: work that ends (succeeds, fails or panics) at a given time, work
//! that never ends, a sequence, a scope (plain, shielded, or a timeout whose deadline moves
//! from inside and from other tasks) around an op, or a task group. A group has *eager*
//! children (spawned when `TaskGroup::scope` is called, before the group's first poll),
//! children its body spawns, a body, and may be cancelled (`tg.cancel()` from another task),
//! first polled late (its future waits before being awaited: shields entered in eager
//! children before the group is attached), and dropped mid-flight. Scopes may be cancelled
//! from another task. A caught scope, a cancelled group and a dropped group let the code
//! after them go on; errors and panics propagate.
//!
//! Every time in a tree is a distinct whole number of milliseconds ([`number`]), so on a
//! paused clock two independent events never happen at the same instant and the outcome of
//! a run is exactly predictable. Work whose time has passed when it starts succeeds at once.
//!
//! ## What a run checks
//! On a paused current-thread runtime (virtual time), against [`model`]: the time and result
//! of the whole tree, every scope's and group's report (completed / caught / cancelled /
//! errors in order / panic / dropped, and when), every timeout's `expired()` when its scope
//! returned and at the end of the run (so it never flips back). On every flavour (the
//! multi-thread ones run on real time, in microseconds, where the model's timings do not
//! apply): when a group's scope future returns or is dropped, none of its children's
//! futures is alive; every future made is dropped; a shielded region is only ever cut short
//! by its own cancel or by the drop of a group around it (a drop is not a cancellation); the
//! run ends. On real time the run follows the model's decisions where timing would blur
//! them (which work waits for its time, which cancels and reschedules reach a scope that
//! exists), and work that never ends gives up after [`FOREVER_REAL`]: events a few
//! microseconds apart may happen in another order there, and with them what cancels what.
//!
//! ## The model, in short
//! A *dropper* (a scope, a group child's task wrapper, a group's body) cancelled at `c`
//! drops what it wraps at the first instant at or after `c` when no shielded region below it
//! is active, unless what it wraps completed by then (a result in the same poll wins).
//! Check-first droppers (`CancelScope`, a child at its first poll, a group's body) drop
//! without polling when already cancelled; a timeout polls first. A group is cancelled by
//! `tg.cancel()`, by its first failure, or by an enclosing scope from its first poll on
//! (before, its node is detached: shields in eager children are not seen by enclosing
//! scopes, and an enclosing cancel that drops the unpolled group drops its children).
//! Dropping a group drops every child at once, shields or not.
//!
//! Within one instant the order of polls matters: a region that ends in the dropper's own
//! flow ends in the dropper's poll, which goes on until the flow suspends, so what the flow
//! does then happens; a region that ends in another task wakes the dropper's task, and a
//! check-first dropper then drops before its flow does anything more (a nested group that
//! resolves at that instant in that flow is dropped unresolved: the outermost cancelled
//! scope reports). Two orders the model does not follow (a passed deadline firing after the
//! first poll of a body that opens scopes in it; a child spawned at the instant its group
//! is dropped) make the run check only the invariants.

use super::{Timeout, TimeoutHandle};
use arbor_runtime::runtime::{Builder, Runtime};
use arbor_runtime::time::{Instant, Sleep, sleep, sleep_until};
use arbor_taskgroup::{CancelHandle, CancelScope, TaskGroup};
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Milliseconds per time slot: a time is `slot * GRID + k` with `k` unique in the tree.
pub const GRID: u64 = 100;
/// Time slots (a tree spans at most `SLOTS * GRID` ms of virtual time).
pub const SLOTS: u64 = 16;
/// The message prefix of the panics trees make on purpose (kept out of the output).
const PANIC_PREFIX: &str = "arbor-test:";
/// No time: never.
const NEVER: u64 = u64::MAX;
/// How long work that never ends waits on the real-time flavours.
const FOREVER_REAL: Duration = Duration::from_millis(50);
/// How long the real-time flavours may run before the run counts as hung.
const HANG_REAL: Duration = Duration::from_secs(10);

/// How work ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum End {
    Ok,
    Fail(u32),
    Panic,
}

/// Async code (see the module header). Times are absolute, in ms since the run started.
#[derive(Debug, Clone)]
pub enum Op {
    /// Waits until `at`, then ends; succeeds at once if `at` has passed when it starts.
    Work {
        at: u64,
        end: End,
    },
    /// Never ends.
    Forever,
    /// Runs ops in order; the first failure ends it.
    Seq(Vec<Op>),
    Scope(Box<ScopeSpec>),
    Group(Box<GroupSpec>),
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// `CancelScope::new()`.
    Plain,
    /// `CancelScope::shielded()`.
    Shielded,
    /// `Timeout::at(deadline)` (or `never()`), its deadline moved by `moves`.
    Timeout {
        deadline: Option<u64>,
        moves: Vec<Move>,
    },
}

/// A reschedule of a timeout: at `at`, to `to`; from inside the timeout (its own task, in
/// the scope's poll) or from another task.
#[derive(Debug, Clone)]
pub struct Move {
    pub at: u64,
    pub to: Option<u64>,
    pub inside: bool,
}

#[derive(Debug, Clone)]
pub struct ScopeSpec {
    pub id: u32,
    pub kind: Kind,
    /// When another task cancels the scope (its handle).
    pub cancel_at: Option<u64>,
    pub body: Op,
}

#[derive(Debug, Clone)]
pub struct GroupSpec {
    pub id: u32,
    /// Spawned by the closure given to `TaskGroup::scope`, before the first poll.
    pub eager: Vec<Op>,
    /// Spawned by the body when it starts.
    pub children: Vec<Op>,
    pub body: Op,
    /// When another task calls `tg.cancel()`.
    pub cancel_at: Option<u64>,
    /// When the group's future is first polled (it waits until then, unpolled).
    pub first_poll: Option<u64>,
    /// When the group's future is dropped, if it has not returned.
    pub drop_at: Option<u64>,
}

/// The error work returns: a leaf's id, or a nested group's errors.
#[derive(Debug, Clone, PartialEq)]
pub enum E {
    Leaf(u32),
    Group(Vec<E>),
}

/// How an op ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Res {
    Ok,
    Err(E),
    Panic,
}

/// What a scope or group reported when it returned (or was dropped, for `DropAt`).
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// The scope's future completed (`Ok(..)`), the group returned its body's value.
    Ok,
    /// The scope was cancelled and caught it (`Err(Cancelled)` / `Err(TimedOut)`).
    Caught,
    /// The group returned `Err(GroupError)` with `is_cancelled()`.
    Cancelled,
    /// The group returned these errors.
    Errors(Vec<E>),
    /// The group resumed a panic.
    Panic,
    /// The group's future was dropped at its `drop_at`.
    Dropped,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: u32,
    pub at: u64,
    pub what: What,
    /// A timeout's `expired()` when its scope returned.
    pub expired: Option<bool>,
}

/// Everything a run reports: compared as a whole with the model's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// When the tree ended, and how (`None`: it did not).
    pub end: Option<(u64, Res)>,
    /// By scope / group id.
    pub reports: BTreeMap<u32, Report>,
    /// Every timeout's `expired()` at the end of the run, by id.
    pub expired: BTreeMap<u32, bool>,
}

// ====== Numbering =======================================================================

/// Turns the time slots of a decoded tree into distinct times (`slot * GRID + k`, `k` from
/// 1 up), and gives scopes, groups and failures distinct ids. Past `GRID - 1` times, further
/// optional times become `None` and work times 0 (succeeds at once).
pub fn number(op: &mut Op) {
    let mut n = Numbering { times: 0, ids: 0 };
    n.op(op);
}

struct Numbering {
    times: u64,
    ids: u32,
}

impl Numbering {
    fn time(&mut self, slot: u64) -> Option<u64> {
        if self.times + 1 >= GRID {
            return None;
        }
        self.times += 1;
        Some((slot % SLOTS) * GRID + self.times)
    }

    fn opt(&mut self, t: &mut Option<u64>) {
        if let Some(slot) = *t {
            *t = self.time(slot);
        }
    }

    fn id(&mut self) -> u32 {
        self.ids += 1;
        self.ids
    }

    fn op(&mut self, op: &mut Op) {
        match op {
            Op::Work { at, end } => {
                *at = self.time(*at).unwrap_or(0);
                if let End::Fail(id) = end {
                    *id = self.id();
                }
            }
            Op::Forever => {}
            Op::Seq(ops) => ops.iter_mut().for_each(|o| self.op(o)),
            Op::Scope(s) => {
                s.id = self.id();
                self.opt(&mut s.cancel_at);
                if let Kind::Timeout { deadline, moves } = &mut s.kind {
                    self.opt(deadline);
                    moves.retain_mut(|m| match self.time(m.at) {
                        Some(at) => {
                            m.at = at;
                            self.opt(&mut m.to);
                            true
                        }
                        None => false,
                    });
                }
                self.op(&mut s.body);
            }
            Op::Group(g) => {
                g.id = self.id();
                self.opt(&mut g.cancel_at);
                self.opt(&mut g.first_poll);
                self.opt(&mut g.drop_at);
                g.eager.iter_mut().for_each(|o| self.op(o));
                g.children.iter_mut().for_each(|o| self.op(o));
                self.op(&mut g.body);
            }
        }
    }
}

// ====== The reference model =============================================================

/// What reaches a flow of code (the code one task runs, nested groups' bodies included):
/// when cancellation does (through every scope and group around it that is not shielded),
/// and when it is dropped outright (`kill`, shields or not). A `strict` kill happens before
/// anything else in this flow at that instant (a check-first dropper woken by another task);
/// otherwise what this flow does in the poll at that instant happens first.
#[derive(Clone, Copy)]
struct Ctx {
    cancel: u64,
    kill: u64,
    strict: bool,
}

impl Ctx {
    /// Whether something this flow does at `t` happens before the kill.
    fn before(&self, t: u64) -> bool {
        t != NEVER && (t < self.kill || (t == self.kill && !self.strict))
    }
}

/// An interval during which a shielded region was active (a span); `own` if the region is in
/// the flow itself (not in a task of a group inside it); `cut` if it ends because the flow
/// was killed there (not an end any dropper inside sees).
#[derive(Clone, Copy)]
struct Span {
    from: u64,
    to: u64,
    own: bool,
    cut: bool,
}

/// A flow's run: how it ended (`None`: dropped or never), and its shielded regions (as
/// counted by the droppers around it).
struct Run {
    end: Option<(u64, Res)>,
    regions: Vec<Span>,
}

/// What the model records; a scratch `Model` is used for the trial runs of a dropper.
#[derive(Default)]
struct Model {
    trace: Trace,
}

impl Model {
    fn report(&mut self, id: u32, at: u64, what: What, expired: Option<bool>) {
        self.trace.reports.insert(
            id,
            Report {
                id,
                at,
                what,
                expired,
            },
        );
    }
}

/// The first instant at or after `from` that no region covers.
fn first_free(from: u64, regions: &[Span]) -> u64 {
    if from == NEVER {
        return NEVER;
    }
    let mut t = from;
    loop {
        let mut moved = false;
        for r in regions {
            if r.from <= t && t < r.to {
                t = r.to;
                moved = true;
            }
        }
        if !moved || t == NEVER {
            return t;
        }
    }
}

/// When a timeout created at `s` with `deadline`, moved by `moves`, fires (`NEVER`: not).
fn fire_time(deadline: Option<u64>, moves: &[Move], s: u64) -> u64 {
    let mut dl = deadline.unwrap_or(NEVER);
    if dl <= s {
        return s;
    }
    let mut later: Vec<&Move> = moves.iter().filter(|m| m.at > s).collect();
    later.sort_by_key(|m| m.at);
    for m in later {
        if dl < m.at {
            return dl;
        }
        dl = m.to.unwrap_or(NEVER);
        if dl <= m.at {
            return m.at;
        }
    }
    dl
}

/// When a dropper cancelled at `cancel` drops a flow whose regions (the trial run's, plus
/// `others` it also counts) are `regions`, and whether that drop is strict: the dropper
/// checks before polling, and the region whose end frees it was in another task (so the
/// dropper's task is polled afresh, and drops first). A region ending in the flow itself
/// ends in the dropper's own poll, which goes on until the flow suspends.
fn drop_point(cancel: u64, regions: &[Span], check_first: bool) -> (u64, bool) {
    let d = first_free(cancel, regions);
    let own_end = regions.iter().any(|r| r.own && r.to == d);
    (d, check_first && d != cancel && !own_end)
}

/// How a dropper's flow ended: completed, dropped at a time (by the dropper), or killed.
enum Outcome {
    Completed,
    Dropped(u64),
    Killed,
}

/// A dropper cancelled at `cancel` over `body` started at `s`: a trial run finds when the
/// dropper drops it, then the recorded run stops there. `others`: regions of other tasks the
/// dropper also counts (a group body's dropper counts the children's).
fn dropper(
    body: &Op,
    s: u64,
    cancel: u64,
    outer: Ctx,
    check_first: bool,
    others: &[Span],
    m: &mut Model,
) -> (Run, Outcome) {
    let ctx = Ctx { cancel, ..outer };
    let trial = eval(body, s, ctx, &mut Model::default());
    let mut all = others.to_vec();
    all.extend(trial.regions.iter().copied());
    // The dropper exists from `s`: a cancel from before reaches it then.
    let (d, strict) = drop_point(
        if cancel == NEVER {
            NEVER
        } else {
            cancel.max(s)
        },
        &all,
        check_first,
    );
    let completes = matches!(trial.end, Some((te, _)) if te < d || (te == d && !strict));
    // A span that ends only because the flow is killed there frees no dropper.
    let killed_first =
        all.iter().any(|r| r.cut && r.to == d) && !all.iter().any(|r| !r.cut && r.to == d);
    let inner = if completes || d > outer.kill {
        ctx
    } else if d < outer.kill {
        Ctx {
            kill: d,
            strict,
            ..ctx
        }
    } else {
        Ctx {
            strict: strict || outer.strict,
            ..ctx
        }
    };
    let mut run = eval(body, s, inner, m);
    let outcome = if completes {
        Outcome::Completed
    } else if outer.before(d) && !killed_first {
        // The drop is real: the spans it ends end in the dropper's poll.
        for r in run.regions.iter_mut().filter(|r| r.cut && r.to == d) {
            r.cut = false;
            r.own = true;
        }
        Outcome::Dropped(d)
    } else {
        Outcome::Killed
    };
    (run, outcome)
}

/// Runs `op` from `s` under `ctx`.
fn eval(op: &Op, s: u64, ctx: Ctx, m: &mut Model) -> Run {
    match op {
        Op::Work { at, end } => {
            if *at > s {
                timed(*at);
            }
            let end = if *at <= s {
                Some((s, Res::Ok))
            } else if ctx.before(*at) {
                let res = match end {
                    End::Ok => Res::Ok,
                    End::Fail(id) => Res::Err(E::Leaf(*id)),
                    End::Panic => Res::Panic,
                };
                Some((*at, res))
            } else {
                None
            };
            Run {
                end,
                regions: Vec::new(),
            }
        }
        Op::Forever => Run {
            end: None,
            regions: Vec::new(),
        },
        Op::Seq(ops) => {
            let mut t = s;
            let mut regions = Vec::new();
            for op in ops {
                let run = eval(op, t, ctx, m);
                regions.extend(run.regions);
                match run.end {
                    Some((te, Res::Ok)) => t = te,
                    other => {
                        return Run {
                            end: other,
                            regions,
                        };
                    }
                }
            }
            Run {
                end: Some((t, Res::Ok)),
                regions,
            }
        }
        Op::Scope(spec) => eval_scope(spec, s, ctx, m),
        Op::Group(spec) => eval_group(spec, s, ctx, m),
    }
}

fn eval_scope(spec: &ScopeSpec, s: u64, ctx: Ctx, m: &mut Model) -> Run {
    // Another task's cancel reaches the scope only once it exists.
    let k = spec.cancel_at.filter(|&k| k > s).unwrap_or(NEVER);
    if k != NEVER {
        effective(spec.id, k);
    }
    if let Kind::Timeout { moves, .. } = &spec.kind {
        for mv in moves.iter().filter(|mv| mv.at > s && !mv.inside) {
            effective(spec.id, mv.at);
        }
    }
    let (own, body_cancel, shielded, fire) = match &spec.kind {
        Kind::Plain => {
            if ctx.cancel <= s {
                // Check-first: dropped unpolled; an enclosing scope's cancel, not caught.
                return Run {
                    end: None,
                    regions: Vec::new(),
                };
            }
            (k, ctx.cancel.min(k), false, NEVER)
        }
        Kind::Shielded => (k, k, true, NEVER),
        Kind::Timeout { deadline, moves } => {
            let f = fire_time(*deadline, moves, s);
            if f == s && opens_scopes(&spec.body) {
                // The deadline passed already: it fires after the body's first poll, within
                // the instant `s`; what the body opens in that poll sees it in an order the
                // model does not follow.
                INEXACT.with(|i| i.set(true));
            }
            let own = f.min(k);
            (own, ctx.cancel.min(own), false, f)
        }
    };
    let is_timeout = matches!(spec.kind, Kind::Timeout { .. });
    let (mut run, outcome) = dropper(&spec.body, s, body_cancel, ctx, !is_timeout, &[], m);
    let expired =
        |te: u64| fire != NEVER && fire < k && fire < ctx.cancel && ctx.before(fire) && fire < te;
    let (end, region_end, cut) = match outcome {
        Outcome::Completed => {
            let (te, res) = run.end.take().expect("a completed body has an end");
            let exp = expired(te);
            if res != Res::Panic {
                // A panic unwinds through the scope: it reports nothing.
                m.report(spec.id, te, What::Ok, is_timeout.then_some(exp));
            }
            if is_timeout {
                m.trace.expired.insert(spec.id, exp);
            }
            (Some((te, res)), te, false)
        }
        Outcome::Dropped(d) => {
            let exp = expired(NEVER);
            if is_timeout {
                m.trace.expired.insert(spec.id, exp);
            }
            let catches = own <= d && (shielded || ctx.cancel > d);
            if catches {
                m.report(spec.id, d, What::Caught, is_timeout.then_some(exp));
                (Some((d, Res::Ok)), d, false)
            } else {
                (None, d, false)
            }
        }
        Outcome::Killed => {
            if is_timeout {
                m.trace.expired.insert(spec.id, expired(NEVER));
            }
            (None, ctx.kill, true)
        }
    };
    let mut regions = run.regions;
    if shielded {
        regions.push(Span {
            from: s,
            to: region_end.min(ctx.kill),
            own: true,
            cut,
        });
    }
    Run { end, regions }
}

/// How a group member (child or body) ended: at `end` (`NEVER`: killed with the group, or
/// never), with `res` if it completed. `own`: the body (it runs in the group's task).
struct Member {
    end: u64,
    res: Option<Res>,
    regions: Vec<Span>,
    own: bool,
}

impl Member {
    /// Its regions as the group counts them.
    fn lifted(&self) -> impl Iterator<Item = Span> + '_ {
        let own = self.own;
        self.regions.iter().map(move |r| Span {
            own: own && r.own,
            ..*r
        })
    }
}

/// A child task spawned at `start` into a group cancelled at `g`, dropped at `kill`.
fn eval_child(op: &Op, start: u64, g: u64, kill: u64, m: &mut Model) -> Member {
    let not_run = |end| Member {
        end,
        res: None,
        regions: Vec::new(),
        own: false,
    };
    if start >= kill {
        if start == kill {
            // Spawned at the instant the group is dropped: never polled if the drop comes
            // in the same poll, but it may come later in the instant (after this child ran
            // and finished what freed the dropper); the model does not order that.
            INEXACT.with(|i| i.set(true));
        }
        return not_run(NEVER);
    }
    if g <= start {
        // Check-first: dropped at its first poll.
        return not_run(start);
    }
    let outer = Ctx {
        cancel: g,
        kill,
        strict: false,
    };
    let (mut run, outcome) = dropper(op, start, g, outer, true, &[], m);
    let (end, res) = match outcome {
        Outcome::Completed => {
            let (te, res) = run.end.take().expect("a completed child has an end");
            (te, Some(res))
        }
        Outcome::Dropped(d) => (d, None),
        Outcome::Killed => (NEVER, None),
    };
    Member {
        end,
        res,
        regions: run.regions,
        own: false,
    }
}

/// The members of a group cancelled at `g` (eager children, then the body's children, then
/// the body), dropped at `kill` (`strict` for the body, as for the group's flow).
fn eval_members(
    spec: &GroupSpec,
    s: u64,
    p: u64,
    g: u64,
    body_ctx: Ctx,
    m: &mut Model,
) -> Vec<Member> {
    let kill = body_ctx.kill;
    let mut members: Vec<Member> = spec
        .eager
        .iter()
        .map(|op| eval_child(op, s, g, kill, m))
        .collect();
    let eager: Vec<Span> = members.iter().flat_map(Member::lifted).collect();
    // The body is polled at `p` unless the group must drop it then (check-first): cancelled
    // and no region active in the group.
    let body_runs = body_ctx.before(p) && (g > p || first_free(p, &eager) > p);
    if !body_runs {
        members.push(Member {
            end: if body_ctx.before(p) { p } else { NEVER },
            res: None,
            regions: Vec::new(),
            own: true,
        });
        return members;
    }
    for op in &spec.children {
        members.push(eval_child(op, p, g, kill, m));
    }
    // The body's dropper is the group, whose count holds every member's regions.
    let others: Vec<Span> = members.iter().flat_map(Member::lifted).collect();
    let (mut run, outcome) = dropper(&spec.body, p, g, body_ctx, true, &others, m);
    let (end, res) = match outcome {
        Outcome::Completed => {
            let (te, res) = run.end.take().expect("a completed body has an end");
            (te, Some(res))
        }
        Outcome::Dropped(d) => (d, None),
        Outcome::Killed => (NEVER, None),
    };
    members.push(Member {
        end,
        res,
        regions: run.regions,
        own: true,
    });
    members
}

fn eval_group(spec: &GroupSpec, s: u64, ctx: Ctx, m: &mut Model) -> Run {
    let k = spec.cancel_at.filter(|&k| k > s).unwrap_or(NEVER);
    if k != NEVER {
        effective(spec.id, k);
    }
    let p = spec.first_poll.filter(|&p| p > s).unwrap_or(s);
    let dd = spec.drop_at.filter(|&d| d > s).unwrap_or(NEVER);
    let dropped = ctx.before(dd);
    let gctx = if dropped {
        Ctx {
            kill: dd,
            strict: false,
            ..ctx
        }
    } else {
        ctx
    };
    // An enclosing cancel reaches the group once it is attached, at its first poll.
    let attached_cancel = if ctx.cancel == NEVER {
        NEVER
    } else {
        ctx.cancel.max(p)
    };
    let failure = |members: &[Member]| {
        members
            .iter()
            .filter(|c| matches!(c.res, Some(Res::Err(_) | Res::Panic)))
            .map(|c| c.end)
            .min()
            .unwrap_or(NEVER)
    };
    let mut g = k.min(attached_cancel);
    loop {
        let body_ctx = Ctx { cancel: g, ..gctx };
        let members = eval_members(spec, s, p, g, body_ctx, &mut Model::default());
        let f = failure(&members);
        if f < g {
            g = f;
        } else {
            break;
        }
    }
    let members = eval_members(spec, s, p, g, Ctx { cancel: g, ..gctx }, m);
    let e = members.iter().map(|c| c.end).max().unwrap_or(p).max(p);
    let clip = |end: u64| -> Vec<Span> {
        members
            .iter()
            .flat_map(Member::lifted)
            .map(|r| {
                if r.to >= end && dropped && end == dd {
                    // Ended by the drop of the group, in this flow's poll.
                    Span {
                        from: r.from.max(p),
                        to: end,
                        own: true,
                        cut: false,
                    }
                } else {
                    Span {
                        from: r.from.max(p),
                        to: r.to.min(end),
                        own: r.own,
                        cut: r.cut || r.to > end,
                    }
                }
            })
            .filter(|r| r.from < r.to)
            .collect()
    };
    if e == NEVER || !gctx.before(e) {
        let regions = clip(gctx.kill);
        if dropped {
            m.report(spec.id, dd, What::Dropped, None);
            return Run {
                end: Some((dd, Res::Ok)),
                regions,
            };
        }
        return Run { end: None, regions };
    }
    let regions = clip(e);
    let mut failures: Vec<(u64, &Res)> = members
        .iter()
        .filter_map(|c| match &c.res {
            Some(r @ (Res::Err(_) | Res::Panic)) => Some((c.end, r)),
            _ => None,
        })
        .collect();
    failures.sort_by_key(|(t, _)| *t);
    let end = if failures.iter().any(|(_, r)| **r == Res::Panic) {
        m.report(spec.id, e, What::Panic, None);
        Some((e, Res::Panic))
    } else if !failures.is_empty() {
        let errors: Vec<E> = failures
            .iter()
            .map(|(_, r)| match r {
                Res::Err(err) => err.clone(),
                _ => unreachable!(),
            })
            .collect();
        m.report(spec.id, e, What::Errors(errors.clone()), None);
        Some((e, Res::Err(E::Group(errors))))
    } else if g <= e {
        if k <= e && ctx.cancel > e {
            m.report(spec.id, e, What::Cancelled, None);
            Some((e, Res::Ok))
        } else if dropped {
            // Parked (an enclosing scope is cancelled too, and reports), but shields keep
            // the enclosing flow going until the drop.
            m.report(spec.id, dd, What::Dropped, None);
            Some((dd, Res::Ok))
        } else {
            // An enclosing scope is cancelled too: it reports, and drops the group.
            None
        }
    } else {
        m.report(spec.id, e, What::Ok, None);
        Some((e, Res::Ok))
    };
    Run { end, regions }
}

thread_local! {
    /// Set when the model met a tree whose exact trace it does not predict.
    static INEXACT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The director's actions that reach their scope or group (it exists by then): `(id, at)`;
    /// with id 0, the work that waits for its time (`at`).
    static EFFECTIVE: std::cell::RefCell<std::collections::BTreeSet<(u32, u64)>> =
        const { std::cell::RefCell::new(std::collections::BTreeSet::new()) };
}

/// Notes that the work ending at `at` waits for it (it had not passed when the work started).
fn timed(at: u64) {
    EFFECTIVE.with(|e| e.borrow_mut().insert((0, at)));
}

/// Notes that the director's action on `id` at `at` reaches its target.
fn effective(id: u32, at: u64) {
    EFFECTIVE.with(|e| e.borrow_mut().insert((id, at)));
}

/// Whether `op` opens a scope or a group anywhere.
fn opens_scopes(op: &Op) -> bool {
    match op {
        Op::Work { .. } | Op::Forever => false,
        Op::Seq(ops) => ops.iter().any(opens_scopes),
        Op::Scope(_) | Op::Group(_) => true,
    }
}

/// The model's trace of `op`, run from time 0; whether it is exact (else only the
/// invariants are checked); the director's actions that reach their target, and the work
/// that waits for its time (see [`EFFECTIVE`]).
fn model_full(op: &Op) -> ((Trace, bool), std::collections::BTreeSet<(u32, u64)>) {
    INEXACT.with(|i| i.set(false));
    EFFECTIVE.with(|e| e.borrow_mut().clear());
    let trace = model(op);
    let effective = EFFECTIVE.with(|e| std::mem::take(&mut *e.borrow_mut()));
    ((trace, !INEXACT.with(|i| i.get())), effective)
}

/// The model's trace of `op`, run from time 0.
pub fn model(op: &Op) -> Trace {
    let mut m = Model::default();
    let run = eval(
        op,
        0,
        Ctx {
            cancel: NEVER,
            kill: NEVER,
            strict: false,
        },
        &mut m,
    );
    m.trace.end = run.end;
    m.trace
}

// ====== Running a tree ==================================================================

/// What every future of a run shares.
struct Env {
    start: Instant,
    /// Real time per tree millisecond: 1 ms on the paused runtime, 1 us on the others.
    unit: Duration,
    trace: Mutex<Trace>,
    targets: Mutex<BTreeMap<u32, Target>>,
    timeouts: Mutex<BTreeMap<u32, TimeoutHandle>>,
    made: AtomicUsize,
    dropped: AtomicUsize,
    violations: Mutex<Vec<String>>,
    /// On real time, the work the model says waits for its time does so even if its time
    /// passed before it started (scheduling delays are not the tree's); `None` on virtual
    /// time, where the run decides by the clock, as the model does.
    timed: Option<std::collections::BTreeSet<(u32, u64)>>,
}

/// What the director task acts on, registered when the scope or group starts.
enum Target {
    Scope(CancelHandle, Arc<AtomicBool>),
    Timeout(TimeoutHandle, Arc<AtomicBool>),
    Group(TaskGroup<E>),
}

impl Env {
    fn at(&self, t: u64) -> Instant {
        self.start + self.unit * u32::try_from(t).unwrap_or(u32::MAX)
    }

    fn now(&self) -> u64 {
        (self.start.elapsed().as_nanos() / self.unit.as_nanos()) as u64
    }

    fn report(&self, id: u32, what: What, expired: Option<bool>) {
        let at = self.now();
        self.trace.lock().unwrap().reports.insert(
            id,
            Report {
                id,
                at,
                what,
                expired,
            },
        );
    }

    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }
}

type BoxFut = Pin<Box<dyn Future<Output = Result<(), E>> + Send>>;

/// The flags of the groups around a flow: set when a group's future is dropped unfinished.
type Drops = Vec<Arc<AtomicBool>>;

fn op_fut(op: Op, env: Arc<Env>, drops: Drops) -> BoxFut {
    match op {
        Op::Work { at, end } => Box::pin(async move {
            let target = env.at(at);
            let waits = match &env.timed {
                Some(timed) => timed.contains(&(0, at)),
                None => Instant::now() < target,
            };
            if !waits {
                return Ok(());
            }
            sleep_until(target).await;
            match end {
                End::Ok => Ok(()),
                End::Fail(id) => Err(E::Leaf(id)),
                End::Panic => panic!("{PANIC_PREFIX} work panics"),
            }
        }),
        Op::Forever => match env.timed {
            None => Box::pin(std::future::pending()),
            // On real time the order of close events may differ from the model's, and with
            // it what cancels what: "forever" ends after a while there, so that every run
            // ends and a hang is a real one.
            Some(_) => Box::pin(async {
                sleep(FOREVER_REAL).await;
                Ok(())
            }),
        },
        Op::Seq(ops) => Box::pin(async move {
            for op in ops {
                op_fut(op, env.clone(), drops.clone()).await?;
            }
            Ok(())
        }),
        Op::Scope(spec) => Box::pin(run_scope(*spec, env, drops)),
        Op::Group(spec) => Box::pin(run_group(*spec, env, drops)),
    }
}

async fn run_scope(spec: ScopeSpec, env: Arc<Env>, drops: Drops) -> Result<(), E> {
    let id = spec.id;
    let cancelled = Arc::new(AtomicBool::new(false));
    match spec.kind {
        Kind::Plain | Kind::Shielded => {
            let shielded = matches!(spec.kind, Kind::Shielded);
            let scope = if shielded {
                CancelScope::shielded()
            } else {
                CancelScope::new()
            };
            env.targets
                .lock()
                .unwrap()
                .insert(id, Target::Scope(scope.handle(), cancelled.clone()));
            let body = op_fut(spec.body, env.clone(), drops.clone());
            let body: BoxFut = if shielded {
                Box::pin(Region {
                    body,
                    done: false,
                    env: env.clone(),
                    drops,
                    cancelled,
                    id,
                })
            } else {
                body
            };
            match scope.run(body).await {
                Ok(res) => {
                    env.report(id, What::Ok, None);
                    res
                }
                Err(_) => {
                    env.report(id, What::Caught, None);
                    Ok(())
                }
            }
        }
        Kind::Timeout { deadline, moves } => {
            let t = match deadline {
                Some(d) => Timeout::at(env.at(d)),
                None => Timeout::never(),
            };
            let h = t.handle();
            env.targets
                .lock()
                .unwrap()
                .insert(id, Target::Timeout(h.clone(), cancelled));
            env.timeouts.lock().unwrap().insert(id, h.clone());
            let now = env.now();
            let mut inside: Vec<&Move> =
                moves.iter().filter(|mv| mv.inside && mv.at > now).collect();
            inside.sort_by_key(|mv| mv.at);
            let inside: Vec<(Instant, Option<Instant>)> = inside
                .into_iter()
                .map(|mv| (env.at(mv.at), mv.to.map(|to| env.at(to))))
                .collect();
            let body = op_fut(spec.body, env.clone(), drops);
            let res = t
                .run(WithMoves {
                    moves: inside.into(),
                    timer: None,
                    handle: h.clone(),
                    body,
                })
                .await;
            let expired = Some(h.expired());
            match res {
                Ok(res) => {
                    env.report(id, What::Ok, expired);
                    res
                }
                Err(_) => {
                    env.report(id, What::Caught, expired);
                    Ok(())
                }
            }
        }
    }
}

async fn run_group(spec: GroupSpec, env: Arc<Env>, drops: Drops) -> Result<(), E> {
    let id = spec.id;
    let live = Arc::new(AtomicUsize::new(0));
    let dropping = Arc::new(AtomicBool::new(false));
    let mut inner = drops.clone();
    inner.push(dropping.clone());
    let GroupSpec {
        eager,
        children,
        body,
        first_poll,
        drop_at,
        ..
    } = spec;
    let (env2, live2) = (env.clone(), live.clone());
    let scope = TaskGroup::<E>::scope(|tg| {
        env.targets
            .lock()
            .unwrap()
            .insert(id, Target::Group(tg.clone()));
        for op in eager {
            spawn_child(&tg, op, &env, &live, &inner);
        }
        async move {
            for op in children {
                spawn_child(&tg, op, &env2, &live2, &inner);
            }
            op_fut(body, env2.clone(), inner.clone()).await?;
            Ok(())
        }
    });
    let checked = Checked {
        scope: Some(Box::pin(scope)),
        live,
        dropping,
        env: env.clone(),
        id,
    };
    let now = env.now();
    let poll_at = first_poll.filter(|&p| p > now).map(|p| env.at(p));
    let waited = async move {
        if let Some(p) = poll_at {
            sleep_until(p).await;
        }
        checked.await
    };
    let drop_at = drop_at
        .filter(|&d| d > now)
        .map(|d| Box::pin(sleep_until(env.at(d))));
    let out = LogPanic {
        fut: DropAt {
            fut: Some(Box::pin(waited)),
            timer: drop_at,
        },
        env: env.clone(),
        id,
    }
    .await;
    match out {
        None => {
            env.report(id, What::Dropped, None);
            Ok(())
        }
        Some(Ok(())) => {
            env.report(id, What::Ok, None);
            Ok(())
        }
        Some(Err(err)) if err.is_cancelled() => {
            env.report(id, What::Cancelled, None);
            Ok(())
        }
        Some(Err(err)) => {
            let errors = err.into_errors();
            env.report(id, What::Errors(errors.clone()), None);
            Err(E::Group(errors))
        }
    }
}

fn spawn_child(tg: &TaskGroup<E>, op: Op, env: &Arc<Env>, live: &Arc<AtomicUsize>, drops: &Drops) {
    let fut = op_fut(op, env.clone(), drops.clone());
    env.made.fetch_add(1, SeqCst);
    live.fetch_add(1, SeqCst);
    drop(tg.spawn(Tracked {
        inner: fut,
        env: env.clone(),
        live: live.clone(),
    }));
}

/// A child's future: counts its life in the run and in its group's `live`.
struct Tracked {
    inner: BoxFut,
    env: Arc<Env>,
    live: Arc<AtomicUsize>,
}

impl Future for Tracked {
    type Output = Result<(), E>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.env.dropped.fetch_add(1, SeqCst);
        self.live.fetch_sub(1, SeqCst);
    }
}

/// A group's scope future: when it returns or is dropped, none of its children is alive.
/// Its drop marks the group as dropped first (for the shields inside, see [`Region`]).
struct Checked<F> {
    scope: Option<Pin<Box<F>>>,
    live: Arc<AtomicUsize>,
    dropping: Arc<AtomicBool>,
    env: Arc<Env>,
    id: u32,
}

impl<F: Future> Future for Checked<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let scope = self.scope.as_mut().expect("polled after completion");
        let out = std::task::ready!(scope.as_mut().poll(cx));
        self.scope = None;
        let live = self.live.load(SeqCst);
        if live != 0 {
            self.env.violation(format!(
                "group {}: its scope returned with {live} child(ren) alive",
                self.id
            ));
        }
        Poll::Ready(out)
    }
}

impl<F> Drop for Checked<F> {
    fn drop(&mut self) {
        if let Some(scope) = self.scope.take() {
            self.dropping.store(true, SeqCst);
            drop(scope);
            let live = self.live.load(SeqCst);
            if live != 0 {
                self.env.violation(format!(
                    "group {}: its scope was dropped with {live} child(ren) alive",
                    self.id
                ));
            }
        }
    }
}

/// The body of a shielded scope: if it is dropped before it completes, its own cancel or
/// the drop of a group around it must be why.
struct Region {
    body: BoxFut,
    done: bool,
    env: Arc<Env>,
    drops: Drops,
    cancelled: Arc<AtomicBool>,
    id: u32,
}

impl Future for Region {
    type Output = Result<(), E>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| this.body.as_mut().poll(cx))) {
            Ok(Poll::Ready(out)) => {
                this.done = true;
                Poll::Ready(out)
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                // A panic is no cut.
                this.done = true;
                resume_unwind(payload)
            }
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        if !self.done
            && !std::thread::panicking()
            && !self.cancelled.load(SeqCst)
            && !self.drops.iter().any(|d| d.load(SeqCst))
        {
            self.env.violation(format!(
                "shielded scope {}: cut short, though neither cancelled itself nor inside a \
                 dropped group",
                self.id
            ));
        }
    }
}

/// Reschedules its timeout from inside (in the scope's poll) at given times, then polls the
/// body.
struct WithMoves {
    moves: std::collections::VecDeque<(Instant, Option<Instant>)>,
    timer: Option<Pin<Box<Sleep>>>,
    handle: TimeoutHandle,
    body: BoxFut,
}

impl Future for WithMoves {
    type Output = Result<(), E>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        while let Some(&(at, to)) = self.moves.front() {
            if Instant::now() >= at {
                self.handle.reschedule(to);
                self.moves.pop_front();
                self.timer = None;
                continue;
            }
            let timer = self.timer.get_or_insert_with(|| Box::pin(sleep_until(at)));
            if timer.as_mut().poll(cx).is_pending() {
                break;
            }
            self.timer = None;
        }
        self.body.as_mut().poll(cx)
    }
}

/// Polls `fut` until `timer` fires, then drops it and resolves to `None`.
struct DropAt<F> {
    fut: Option<Pin<Box<F>>>,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<F: Future> Future for DropAt<F> {
    type Output = Option<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(fut) = self.fut.as_mut() {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                self.fut = None;
                return Poll::Ready(Some(out));
            }
        }
        if let Some(timer) = self.timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                self.fut = None;
                return Poll::Ready(None);
            }
        }
        Poll::Pending
    }
}

/// Reports a group's panic as it passes through.
struct LogPanic<F> {
    fut: F,
    env: Arc<Env>,
    id: u32,
}

impl<F: Future + Unpin> Future for LogPanic<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut this.fut).poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                this.env.report(this.id, What::Panic, None);
                resume_unwind(payload)
            }
        }
    }
}

/// The director: performs the cancels and the outside reschedules at their times.
fn actions(op: &Op, out: &mut Vec<(u64, Action)>) {
    match op {
        Op::Work { .. } | Op::Forever => {}
        Op::Seq(ops) => ops.iter().for_each(|o| actions(o, out)),
        Op::Scope(s) => {
            if let Some(t) = s.cancel_at {
                out.push((t, Action::Cancel(s.id)));
            }
            if let Kind::Timeout { moves, .. } = &s.kind {
                for mv in moves.iter().filter(|mv| !mv.inside) {
                    out.push((mv.at, Action::Move(s.id, mv.to)));
                }
            }
            actions(&s.body, out);
        }
        Op::Group(g) => {
            if let Some(t) = g.cancel_at {
                out.push((t, Action::Cancel(g.id)));
            }
            g.eager
                .iter()
                .chain(&g.children)
                .chain(std::iter::once(&g.body))
                .for_each(|o| actions(o, out));
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Cancel(u32),
    Move(u32, Option<u64>),
}

/// On virtual time the targets of `acts` exist when their time comes. On real time (in
/// microseconds, below the timer's resolution) one may not yet: the director waits for it.
async fn director(mut acts: Vec<(u64, Action)>, env: Arc<Env>, wait: bool) {
    acts.sort_by_key(|(t, _)| *t);
    for (t, act) in acts {
        sleep_until(env.at(t)).await;
        while wait && !env.targets.lock().unwrap().contains_key(&act_id(act)) {
            arbor_runtime::yield_now().await;
        }
        let targets = env.targets.lock().unwrap();
        match (act, targets.get(&act_id(act))) {
            (Action::Cancel(_), Some(Target::Scope(h, flag))) => {
                flag.store(true, SeqCst);
                h.cancel();
            }
            (Action::Cancel(_), Some(Target::Timeout(h, flag))) => {
                flag.store(true, SeqCst);
                h.cancel();
            }
            (Action::Cancel(_), Some(Target::Group(tg))) => tg.cancel(),
            (Action::Move(_, to), Some(Target::Timeout(h, _))) => {
                h.reschedule(to.map(|to| env.at(to)));
            }
            _ => {}
        }
    }
}

fn act_id(act: Action) -> u32 {
    match act {
        Action::Cancel(id) | Action::Move(id, _) => id,
    }
}

/// Whether the model says the tree ends (only such trees are run).
pub fn terminates(op: &Op) -> bool {
    model(op).end.is_some()
}

/// Runs `op` on the runtime `flavour` picks (0: paused current-thread, checked against the
/// model; 1, 2: multi-thread with 1 or 4 workers on real microseconds, invariants only) and
/// returns `Err` saying what broke.
pub fn run_tree(op: &Op, flavour: u8) -> Result<(), String> {
    quiet_tree_panics();
    let ((expected, model_exact), effective) = model_full(op);
    if expected.end.is_none() {
        return Err("the model says this tree never ends; do not run it".into());
    }
    let (rt, unit, exact): (Runtime, Duration, bool) = match flavour % 3 {
        0 => (
            Builder::new_current_thread()
                .start_paused(true)
                .build()
                .unwrap(),
            Duration::from_millis(1),
            true,
        ),
        n => (
            Builder::new_multi_thread()
                .worker_threads(if n == 1 { 1 } else { 4 })
                .build()
                .unwrap(),
            Duration::from_micros(1),
            false,
        ),
    };
    let mut acts = Vec::new();
    actions(op, &mut acts);
    acts.retain(|(t, act)| effective.contains(&(act_id(*act), *t)));
    let op2 = op.clone();
    let env = rt.block_on(async move {
        let env = Arc::new(Env {
            start: Instant::now(),
            unit,
            trace: Mutex::new(Trace::default()),
            targets: Mutex::new(BTreeMap::new()),
            timeouts: Mutex::new(BTreeMap::new()),
            made: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            violations: Mutex::new(Vec::new()),
            timed: (!exact).then(|| effective.clone()),
        });
        let director = arbor_runtime::spawn(director(acts, env.clone(), !exact));
        let root = CatchPanic(op_fut(op2, env.clone(), Vec::new()));
        // Far past the end of any tree: a run still going then hangs.
        let horizon = Box::pin(sleep(if exact {
            unit * u32::try_from(SLOTS * GRID * 4).unwrap()
        } else {
            HANG_REAL
        }));
        let end = DropAt {
            fut: Some(Box::pin(root)),
            timer: Some(horizon),
        }
        .await;
        director.cancel();
        let at = env.now();
        let end = end.map(|res| {
            let res = match res {
                Ok(Ok(())) => Res::Ok,
                Ok(Err(e)) => Res::Err(e),
                Err(()) => Res::Panic,
            };
            (at, res)
        });
        let mut trace = env.trace.lock().unwrap();
        trace.end = end;
        trace.expired = env
            .timeouts
            .lock()
            .unwrap()
            .iter()
            .map(|(id, h)| (*id, h.expired()))
            .collect();
        drop(trace);
        env.targets.lock().unwrap().clear();
        env.timeouts.lock().unwrap().clear();
        env
    });
    drop(rt);
    let violations = env.violations.lock().unwrap().clone();
    if !violations.is_empty() {
        return Err(violations.join("\n"));
    }
    let (made, dropped) = (env.made.load(SeqCst), env.dropped.load(SeqCst));
    if made != dropped {
        return Err(format!("{made} child futures made, {dropped} dropped"));
    }
    if Arc::strong_count(&env) != 1 {
        return Err("a future was leaked (the run's state is still shared)".into());
    }
    let trace = env.trace.lock().unwrap().clone();
    if trace.end.is_none() {
        return Err("the tree did not end (hang)".into());
    }
    // `expired()` never flips back: true when a scope returned means true at the end.
    for (id, report) in &trace.reports {
        if report.expired == Some(true) && trace.expired.get(id) != Some(&true) {
            return Err(format!("timeout {id}: expired() went back to false"));
        }
    }
    if exact && model_exact && trace != expected {
        return Err(format!(
            "the run differs from the model\n run:   {trace:?}\n model: {expected:?}"
        ));
    }
    Ok(())
}

/// Resolves to `Err(())` if polling the future panics.
struct CatchPanic(BoxFut);

impl Future for CatchPanic {
    type Output = Result<Result<(), E>, ()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
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
            if !msg.starts_with(PANIC_PREFIX) && !msg.starts_with("this task panicked inside") {
                default(info);
            }
        }));
    });
}
