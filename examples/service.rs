//! What Trio and AnyIO add to asyncio, on arbor: a server started with `tg.start` (the
//! parent goes on only once it listens), named children, a `Limiter` for blocking calls,
//! the runtime's counters, and the policy for a panic nobody awaits.
//!
//! ```text
//! cargo run --example service
//! ```

use arbor::net::{TcpListener, TcpStream};
use arbor::runtime::{Builder, Handle, UnhandledPanic};
use arbor::{StartError, TaskGroup};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn main() -> io::Result<()> {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        // The default, spelled out: a detached task's panic is logged naming the task, and
        // the runtime goes on (`ShutdownRuntime` would end `block_on` instead).
        .unhandled_panic(UnhandledPanic::Ignore)
        .build()?;
    rt.block_on(service())
}

async fn service() -> io::Result<()> {
    let ended = TaskGroup::<io::Error>::scope(|tg| async move {
        // Trio's `nursery.start`: the server binds, reports its address, then serves on
        // in the group. `start` resolves only once it listens.
        let addr = tg
            .builder()
            .name("echo server")
            .start(|status| async move {
                let listener = TcpListener::bind("127.0.0.1:0").await?;
                status.started(listener.local_addr()?);
                serve(listener).await
            })
            .await
            .map_err(|e| io::Error::other(e.to_string()))?;
        println!("server listening: {}", addr.ip());

        // Named clients: the names show in `task::dump()`, tracing spans and slow-poll
        // warnings.
        let clients: Vec<_> = (0..3)
            .map(|i| {
                tg.builder()
                    .name(&format!("client {i}"))
                    .spawn(async move { echo_once(addr, format!("hello {i}")).await })
            })
            .collect();
        for (i, client) in clients.into_iter().enumerate() {
            println!("client {i} got: {}", client.await.map_err(io::Error::from)?);
        }

        // A child that ends before `started` makes `start` fail, not the group.
        let early = tg
            .start(|_status: arbor::StartStatus<()>| async { Ok(()) })
            .await;
        println!(
            "start of a child that never started: {}",
            matches!(early, Err(StartError::Returned))
        );

        // AnyIO's CapacityLimiter: at most two blocking calls at once, FIFO.
        let limiter = Arc::new(arbor::blocking::Limiter::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        TaskGroup::<io::Error>::scope(|calls| {
            for _ in 0..8 {
                let (limiter, running, most) = (limiter.clone(), running.clone(), most.clone());
                drop(calls.spawn(async move {
                    limiter
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(5));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await;
                    Ok(())
                }));
            }
            async { Ok(()) }
        })
        .await
        .map_err(|e| io::Error::other(e.to_string()))?;
        let most = most.load(Ordering::SeqCst);
        println!(
            "blocking calls at once: {most}, never more than 2: {}",
            most <= 2
        );

        // A detached task that panics: logged naming it (with a tracing subscriber), and
        // the runtime serves on. (A one-line panic hook keeps the output short.)
        std::panic::set_hook(Box::new(|info| eprintln!("a task panicked: {info}")));
        let oops = arbor::task::Builder::new()
            .name("oops")
            .spawn(async { panic!("nobody awaits me") });
        drop(oops);
        arbor::sleep(std::time::Duration::from_millis(10)).await;
        let _ = std::panic::take_hook();

        let metrics = Handle::current().metrics();
        println!(
            "runtime: {} workers; {} tasks spawned, {} live, {} polls so far",
            metrics.workers(),
            metrics.spawned(),
            metrics.live_tasks(),
            metrics.polls()
        );

        // The server never returns by itself: cancel the group's remaining children.
        tg.cancel();
        Ok(())
    })
    .await;
    match ended {
        // Our own `tg.cancel()`: the server and its connections were cancelled.
        Err(e) if e.is_cancelled() => {}
        other => other.map_err(|e| io::Error::other(e.to_string()))?,
    }
    println!("all children done: nothing outlives the group");
    Ok(())
}

/// Echoes one line per connection, a connection per child of a group of its own.
async fn serve(listener: TcpListener) -> io::Result<()> {
    TaskGroup::<io::Error>::scope(|conns| async move {
        loop {
            let (stream, peer) = listener.accept().await?;
            drop(
                conns
                    .builder()
                    .name(&format!("conn {peer}"))
                    .spawn(echo(stream)),
            );
        }
    })
    .await
    .map_err(|e| io::Error::other(e.to_string()))
}

async fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).await?;
    stream.write_all(&buf[..n]).await
}

async fn echo_once(addr: std::net::SocketAddr, line: String) -> io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(line.as_bytes()).await?;
    let mut buf = vec![0u8; line.len()];
    stream.read_exact(&mut buf).await?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}
