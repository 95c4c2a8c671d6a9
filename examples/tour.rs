//! A tour of arbor through the examples of Python's asyncio documentation, each printing
//! what its asyncio original prints (durations scaled from seconds to tens of
//! milliseconds, so the whole tour runs in about a second).
//!
//! ```text
//! cargo run --release --example tour
//! ```

use arbor::time::Instant;
use arbor::{GroupError, TaskGroup, Timeout};
use std::time::Duration;

/// One asyncio "second", scaled down.
const SECOND: Duration = Duration::from_millis(50);

fn secs(n: u32) -> Duration {
    SECOND * n
}

/// Scaled seconds since `start`, where asyncio's examples print `time.strftime('%X')`.
fn at(start: Instant) -> String {
    format!(
        "{:.2}s",
        start.elapsed().as_secs_f64() / SECOND.as_secs_f64()
    )
}

#[arbor::main]
async fn main() {
    hello().await;
    gather().await;
    as_completed().await;
    to_thread().await;
    wait_for().await;
    reschedule().await;
    task_group().await;
    introspection().await;
    generator().await;
}

/// `asyncio.run(main())` with `print('hello')`: three times, a "second" apart.
async fn hello() {
    println!("== hello");
    for _ in 0..3 {
        println!("hello");
        arbor::sleep(secs(1) / 10).await;
    }
}

/// `asyncio.gather(a, b, c)`: concurrent, results in argument order.
async fn gather() {
    println!("== gather");
    let start = Instant::now();
    let step = |name: &'static str, n: u32| async move {
        println!("{name}: started");
        arbor::sleep(secs(n)).await;
        println!("{name}: finished");
        name
    };
    let (a, b, c) = arbor::gather!(step("a", 2), step("b", 1), step("c", 3)).await;
    println!("Result: {:?}", [a, b, c]);
    println!("(took {})", at(start));
}

/// `for coro in asyncio.as_completed(aws)`: results in completion order.
async fn as_completed() {
    println!("== as_completed");
    let mut done = arbor::as_completed([3u32, 1, 2].map(|n| async move {
        arbor::sleep(secs(n)).await;
        n
    }));
    while let Some(n) = done.next().await {
        println!("completed after {n}s");
    }
}

/// `asyncio.gather(asyncio.to_thread(blocking_io), asyncio.sleep(1))`: both take one
/// second, together one second.
async fn to_thread() {
    println!("== to_thread");
    let start = Instant::now();
    println!("started main at {}", at(start));
    arbor::gather!(
        arbor::to_thread(move || {
            println!("start blocking_io at {}", at(start));
            std::thread::sleep(secs(1)); // a blocking call, off the workers
            println!("blocking_io complete at {}", at(start));
        }),
        arbor::sleep(secs(1)),
    )
    .await;
    println!("finished main at {}", at(start));
}

/// `await asyncio.wait_for(eternity(), timeout=1.0)` raising `TimeoutError`.
async fn wait_for() {
    println!("== wait_for");
    async fn eternity() {
        arbor::sleep(Duration::from_secs(3600)).await;
        println!("yay!");
    }
    match arbor::wait_for(secs(1), eternity()).await {
        Ok(()) => println!("finished"),
        Err(_) => println!("timeout!"),
    }
}

/// `async with asyncio.timeout(None) as cm: cm.reschedule(loop.time() + 10)`, then
/// `cm.expired()`.
async fn reschedule() {
    println!("== timeout + reschedule");
    async fn long_running_task() {
        arbor::sleep(Duration::from_secs(3600)).await;
        println!("This should never be printed...");
    }
    let t = Timeout::never();
    let cm = t.handle();
    let res = t
        .run({
            let cm = cm.clone();
            async move {
                // We do not know the timeout when starting, so we pass None; once we do,
                // we reschedule.
                cm.reschedule(Some(Instant::now() + secs(1)));
                long_running_task().await;
            }
        })
        .await;
    if res.is_err() && cm.expired() {
        println!("Looks like we haven't finished on time.");
    }
}

/// `async with asyncio.TaskGroup() as tg: tg.create_task(...)`.
async fn task_group() {
    println!("== TaskGroup");
    async fn some_coro(n: u32) -> Result<u32, String> {
        arbor::sleep(secs(1) / 2).await;
        Ok(n * 10)
    }
    let (task1, task2) = TaskGroup::<String>::scope(|tg| async move {
        let task1 = tg.spawn(some_coro(1));
        let task2 = tg.spawn(some_coro(2));
        Ok((task1, task2))
    })
    .await
    .expect("no child failed");
    // The group waited for both: their results are ready.
    let (r1, r2) = (task1.await.unwrap(), task2.await.unwrap());
    println!("Both tasks have completed now: {r1}, {r2}");

    // A failing child cancels its siblings; the group reports every real error.
    let err: GroupError<String> = TaskGroup::<String>::scope(|tg| async move {
        drop(tg.spawn(async {
            arbor::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }));
        drop(tg.spawn(async { Err::<(), _>("child failed".to_string()) }));
        Ok(())
    })
    .await
    .unwrap_err();
    println!("the group failed with {:?}", err.errors());
}

/// `asyncio.current_task()`, `asyncio.all_tasks()`, and the task tree
/// (`python -m asyncio pstree`).
async fn introspection() {
    println!("== current_task / all_tasks");
    let worker = arbor::task::Builder::new().name("worker").spawn(async {
        let me = arbor::task::current().expect("inside a task");
        println!("current task: {}", me.name().unwrap_or("<unnamed>"));
        arbor::sleep(secs(1)).await;
    });
    arbor::yield_now().await;
    let names: Vec<_> = arbor::task::all()
        .iter()
        .map(|t| t.name().unwrap_or("<unnamed>").to_string())
        .collect();
    println!("all tasks: {names:?}");
    print!("{}", arbor::task::dump());
    worker.await.unwrap();
}

/// An async generator: `async def ticker(): for i in range(3): yield i`.
async fn generator() {
    println!("== async generator");
    let mut ticker = arbor::stream::generator(|co| async move {
        for i in 0..3 {
            co.yield_(i).await;
            arbor::sleep(secs(1) / 10).await;
        }
    });
    while let Some(i) = ticker.next().await {
        println!("tick {i}");
    }
}
