//! `baseline ADDR BODY_FILE`: the HTTP ceiling of the machine. A bare hyper 1.x HTTP/1.1 server
//! on a single-threaded tokio runtime that answers every request, whatever its path, with the
//! bytes of BODY_FILE as `application/json` (the script passes the body of the list
//! endpoint's default first page, so both send the same bytes). Keep-alive, `TCP_NODELAY`, no
//! routing, no logging, no middleware: what is left is the cost of HTTP itself.
//!
//! Prints `baseline listening on http://ADDR` once bound (port 0 picks a free port); stops on
//! SIGTERM or Ctrl-C.

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, header};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use tokio::net::TcpListener;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, file] = args.as_slice() else {
        anyhow::bail!("usage: baseline ADDR BODY_FILE   (e.g. baseline 127.0.0.1:0 page.json)");
    };
    let addr: SocketAddr = addr.parse().with_context(|| format!("not an address: {addr}"))?;
    let body = Bytes::from(std::fs::read(file).with_context(|| format!("reading {file}"))?);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(serve(addr, body))
}

async fn serve(addr: SocketAddr, body: Bytes) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("baseline listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("baseline: accept failed: {e}");
                    continue;
                }
            },
            _ = terminate.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        stream.set_nodelay(true)?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_request: Request<Incoming>| {
                let response = Response::builder()
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Full::new(body.clone()));
                async move { Ok::<_, Infallible>(response.expect("static response parts")) }
            });
            // A client closing its connection mid-request is not worth reporting.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
