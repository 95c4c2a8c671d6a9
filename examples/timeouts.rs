//! asyncio's documented timeout examples, in arbor.
//!
//! ```text
//! cargo run --example timeouts
//! ```
//!
//! Prints:
//! ```text
//! timeout!
//! Looks like we haven't finished on time.
//! expired: true
//! ```

use arbor::Timeout;
use arbor::time::Instant;
use std::time::Duration;

/// A coroutine that never finishes in time.
async fn eternity() {
    arbor::sleep(Duration::from_secs(3600)).await;
    println!("yay!");
}

async fn long_running_task() {
    arbor::sleep(Duration::from_secs(3600)).await;
    println!("This should never be printed...");
}

#[arbor::main]
async fn main() {
    // asyncio: `await asyncio.wait_for(eternity(), timeout=1.0)` raising TimeoutError.
    if arbor::wait_for(Duration::from_secs(1), eternity())
        .await
        .is_err()
    {
        println!("timeout!");
    }

    // asyncio: `async with asyncio.timeout(None) as cm:` then, once the deadline is known,
    // `cm.reschedule(loop.time() + 10)`; afterwards `cm.expired()`.
    let t = Timeout::never();
    let cm = t.handle();
    let res = t
        .run({
            let cm = cm.clone();
            async move {
                let new_deadline = Instant::now() + Duration::from_millis(10);
                cm.reschedule(Some(new_deadline));
                long_running_task().await;
            }
        })
        .await;
    if res.is_err() {
        println!("Looks like we haven't finished on time.");
    }
    println!("expired: {}", cm.expired());
}
