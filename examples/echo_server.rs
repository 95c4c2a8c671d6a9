//! An echo server and its client in one program (asyncio's `start_server` +
//! `open_connection` example): the server echoes each line back, upper-cased, with a task
//! per connection; the client sends a few lines, prints the replies and exits.
//!
//! Run it with `cargo run --release --example echo_server`.

use arbor::net::{TcpListener, TcpStream};
use std::io;

/// Serves one connection: echoes every line back in upper case until the client closes.
async fn handle(stream: TcpStream) -> io::Result<()> {
    let (mut reader, mut writer) = stream.into_split();
    let mut pending = Vec::new();
    let mut buf = [0; 1024];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(()); // the client shut its side down
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            writer.write_all(&line.to_ascii_uppercase()).await?;
        }
    }
}

/// Accepts connections forever, one task each.
async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        // Detached: the task serves its connection on its own.
        drop(arbor::spawn(async move {
            if let Err(e) = handle(stream).await {
                eprintln!("connection from {peer} failed: {e}");
            }
        }));
    }
}

/// Sends `lines` one by one and returns the replies.
async fn client(addr: std::net::SocketAddr, lines: &[&str]) -> io::Result<Vec<String>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut replies = Vec::new();
    for line in lines {
        stream.write_all(format!("{line}\n").as_bytes()).await?;
        let mut reply = vec![0; line.len() + 1];
        stream.read_exact(&mut reply).await?;
        replies.push(String::from_utf8_lossy(&reply).trim_end().to_string());
    }
    stream.shutdown().await?;
    Ok(replies)
}

fn main() -> io::Result<()> {
    arbor::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        println!("echo server listening on {addr}");
        // Detached: the server runs until `run` returns, which cancels it.
        drop(arbor::spawn(serve(listener)));
        let lines = ["hello", "from arbor", "goodbye"];
        for (sent, reply) in lines.iter().zip(client(addr, &lines).await?) {
            println!("sent {sent:?}, got back {reply:?}");
        }
        Ok(())
    })
}
