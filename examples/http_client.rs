//! The httpx example of asyncio's world, in arbor:
//!
//! ```python
//! async with httpx.AsyncClient() as client:
//!     responses = await asyncio.gather(*(client.get(url) for url in urls))
//!     for r in responses:
//!         print(r.status_code, r.text)
//! ```
//!
//! Three concurrent GETs with `gather!` on one pooled `arbor::http::Client`, against a
//! local server the example starts itself (in a `TaskGroup`, stopped when the requests
//! are done), printing each status and body.
//!
//! ```text
//! cargo run --release --features http --example http_client
//! ```

use arbor::http::hyper::body::{Bytes, Incoming};
use arbor::http::hyper::service::service_fn;
use arbor::http::hyper::{Request, Response};
use arbor::http::{Client, serve};
use arbor::net::TcpListener;
use arbor::{CancelScope, TaskGroup};
use http_body_util::{BodyExt, Full};
use std::convert::Infallible;

/// The local server: answers each path with a line naming it.
async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("you asked for {}", req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// GETs `url` and returns its status and body text.
async fn fetch(client: &Client, url: String) -> Result<(u16, String), arbor::http::Error> {
    let response = client.get(url).await?;
    let status = response.status().as_u16();
    // A body error is a request error too, as httpx raises it from `.text`.
    let body = response.into_body().collect().await?;
    Ok((
        status,
        String::from_utf8_lossy(&body.to_bytes()).into_owned(),
    ))
}

#[arbor::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);

    let results = TaskGroup::<std::io::Error>::scope(|tg| async move {
        // The server is a child of the group, in a cancel scope of its own: cancelling
        // that scope stops it gracefully, and the group waits for it.
        let server = CancelScope::new();
        let stop = server.handle();
        drop(tg.spawn(async move {
            let _ = server.run(serve(listener, service_fn(answer))).await;
            Ok(())
        }));

        let client = Client::new();
        let (a, b, c) = arbor::gather!(
            fetch(&client, format!("{base}/a")),
            fetch(&client, format!("{base}/b")),
            fetch(&client, format!("{base}/c")),
        )
        .await;
        stop.cancel(); // done: stop the server
        Ok([a, b, c])
    })
    .await
    .map_err(|e| format!("{e:?}"))?;

    for result in results {
        let (status, text) = result?;
        println!("{status} {text}");
    }
    Ok(())
}
