//! gather!, try_gather!, gather(iter), try_gather(iter), as_completed, stream::generator.
//! Timing-dependent cases run on virtual time.

use arbor::runtime::Builder;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

fn paused() -> arbor::runtime::Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

/// A future that is pending until its flag is set, counting polls and drops.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<std::sync::atomic::AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
    polls: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

struct GateFuture<T>(Gate, Option<T>);

impl Gate {
    fn wait<T>(&self, value: T) -> GateFuture<T> {
        GateFuture(self.clone(), Some(value))
    }
    fn open(&self) {
        self.open.store(true, SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

impl<T: Unpin> Future for GateFuture<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.0.polls.fetch_add(1, SeqCst);
        if self.0.open.load(SeqCst) {
            return Poll::Ready(self.1.take().unwrap());
        }
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> Drop for GateFuture<T> {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, SeqCst);
    }
}

#[test]
fn gather_macro_runs_concurrently_and_returns_in_argument_order() {
    // The asyncio docs' example: a, b, c start in order, finish in sleep order, and the
    // result is in argument order.
    let log = Arc::new(Mutex::new(Vec::new()));
    let step = |name: &'static str, ms: u64| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(format!("{name}: started"));
            arbor::sleep(Duration::from_millis(ms)).await;
            log.lock().unwrap().push(format!("{name}: finished"));
            name
        }
    };
    let result = paused().block_on(arbor::gather!(step("a", 2), step("b", 1), step("c", 3)));
    assert_eq!(result, ("a", "b", "c"));
    assert_eq!(
        *log.lock().unwrap(),
        [
            "a: started",
            "b: started",
            "c: started",
            "b: finished",
            "a: finished",
            "c: finished"
        ]
    );
}

#[test]
fn gather_macro_borrows_from_the_caller() {
    let words = ["x".to_string(), "yz".to_string()];
    let (a, b) = arbor::run(arbor::gather!(async { words[0].len() }, async {
        words[1].len()
    }));
    assert_eq!((a, b), (1, 2));
    assert_eq!(words.len(), 2);
}

#[test]
fn try_gather_macro_returns_the_first_error_and_drops_the_rest() {
    let gate = Gate::default();
    let pending: GateFuture<Result<u8, &str>> = gate.wait(Ok(1));
    let out: Result<(u8, u8), &str> = arbor::run(async {
        arbor::try_gather!(pending, async {
            arbor::yield_now().await;
            Err("second failed")
        })
        .await
    });
    assert_eq!(out, Err("second failed"));
    assert_eq!(gate.drops.load(SeqCst), 1, "the pending future was dropped");
}

#[test]
fn try_gather_macro_all_ok() {
    let out: Result<(u8, &str, ()), String> = arbor::run(arbor::try_gather!(
        async { Ok(1) },
        async { Ok("two") },
        async { Ok(()) }
    ));
    assert_eq!(out, Ok((1, "two", ())));
}

#[test]
fn gather_function_keeps_order_and_every_result() {
    // return_exceptions=True: errors are values, in order.
    let out = arbor::run(arbor::gather((0..5).map(|i| async move {
        arbor::yield_now().await;
        if i % 2 == 0 { Ok(i) } else { Err(i) }
    })));
    assert_eq!(out, vec![Ok(0), Err(1), Ok(2), Err(3), Ok(4)]);
    let empty: Vec<()> = arbor::run(arbor::gather(Vec::<std::future::Ready<()>>::new()));
    assert!(empty.is_empty());
}

#[test]
fn gather_function_repolls_only_the_woken_future() {
    let gates: Vec<Gate> = (0..100).map(|_| Gate::default()).collect();
    let mut all = arbor::gather(gates.iter().enumerate().map(|(i, g)| g.wait(i)));
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    assert!(Pin::new(&mut all).poll(&mut cx).is_pending());
    let polls = |gates: &[Gate]| gates.iter().map(|g| g.polls.load(SeqCst)).sum::<usize>();
    assert_eq!(polls(&gates), 100);
    gates[42].open();
    assert!(Pin::new(&mut all).poll(&mut cx).is_pending());
    assert_eq!(polls(&gates), 101, "only the woken future was polled again");
    for g in &gates {
        g.open();
    }
    match Pin::new(&mut all).poll(&mut cx) {
        Poll::Ready(out) => assert_eq!(out, (0..100).collect::<Vec<_>>()),
        Poll::Pending => panic!("every future was ready"),
    }
}

type BoxedResult = Pin<Box<dyn Future<Output = Result<u8, u8>> + Send>>;

#[test]
fn try_gather_function_drops_the_rest_on_the_first_error() {
    let gate = Gate::default();
    let mut futures: Vec<BoxedResult> = (0..3u8)
        .map(|i| Box::pin(gate.wait(Ok(i))) as Pin<Box<_>>)
        .collect();
    futures.push(Box::pin(async { Err(9) }));
    let out = arbor::run(arbor::try_gather(futures));
    assert_eq!(out, Err(9));
    assert_eq!(gate.drops.load(SeqCst), 3);
}

#[test]
fn as_completed_yields_in_completion_order() {
    paused().block_on(async {
        let start = arbor::time::Instant::now();
        let mut done = arbor::as_completed([50u64, 10, 40, 20, 30].map(|ms| async move {
            arbor::sleep(Duration::from_millis(ms)).await;
            ms
        }));
        assert_eq!(done.len(), 5);
        let mut order = Vec::new();
        while let Some(ms) = done.next().await {
            assert_eq!(
                arbor::time::Instant::now() - start,
                Duration::from_millis(ms)
            );
            order.push(ms);
        }
        assert_eq!(order, [10, 20, 30, 40, 50]);
        assert!(done.is_empty());
        assert_eq!(done.next().await, None);
    });
}

#[test]
fn as_completed_is_a_stream() {
    use futures_core::Stream;
    let gates: Vec<Gate> = (0..3).map(|_| Gate::default()).collect();
    let mut s = arbor::as_completed(gates.iter().enumerate().map(|(i, g)| g.wait(i)));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut s).poll_next(&mut cx).is_pending());
    assert_eq!(s.size_hint(), (3, Some(3)));
    gates[2].open();
    gates[0].open();
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Ready(Some(2)));
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Ready(Some(0)));
    assert!(Pin::new(&mut s).poll_next(&mut cx).is_pending());
    drop(s);
    assert_eq!(
        gates[1].drops.load(SeqCst),
        1,
        "dropping it drops what still runs"
    );
}

#[test]
fn generator_is_lazy_and_yields_in_order() {
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let mut stream = arbor::stream::generator(move |co| async move {
        s.fetch_add(1, SeqCst);
        for i in 0..3 {
            co.yield_(i).await;
            arbor::yield_now().await;
        }
    });
    assert_eq!(
        started.load(SeqCst),
        0,
        "nothing runs before the first poll"
    );
    let seen = arbor::run(async move {
        let mut seen = Vec::new();
        while let Some(v) = stream.next().await {
            seen.push(v);
        }
        assert_eq!(stream.next().await, None);
        seen
    });
    assert_eq!(seen, [0, 1, 2]);
    assert_eq!(started.load(SeqCst), 1);
}

#[test]
fn generator_stops_at_each_yield_and_drops_its_body() {
    use futures_core::Stream;
    let gate = Gate::default();
    let g = gate.clone();
    let produced = Arc::new(AtomicUsize::new(0));
    let p = produced.clone();
    let mut stream = arbor::stream::generator(move |co| async move {
        for i in 0.. {
            p.fetch_add(1, SeqCst);
            co.yield_(i).await;
            if i == 1 {
                g.wait(()).await;
            }
        }
    });
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(
        Pin::new(&mut stream).poll_next(&mut cx),
        Poll::Ready(Some(0))
    );
    assert_eq!(
        produced.load(SeqCst),
        1,
        "back-pressure: one value per poll"
    );
    assert_eq!(
        Pin::new(&mut stream).poll_next(&mut cx),
        Poll::Ready(Some(1))
    );
    assert!(Pin::new(&mut stream).poll_next(&mut cx).is_pending());
    drop(stream);
    assert_eq!(
        gate.drops.load(SeqCst),
        1,
        "dropping the stream drops the body"
    );
}
