//! Serving a protocol on a TCP listener within bounds that a slow or hostile client cannot
//! stretch (both the JSON API and the S3 listener are served this way):
//!
//! - at most [`ConnectionLimits::max_connections`] open connections: at the limit the server
//!   stops accepting, and new connections wait in the kernel's backlog until one closes;
//! - a request's headers must arrive within [`ConnectionLimits::header_read_timeout`] (a client
//!   trickling them in is disconnected), and an idle keep-alive connection is closed after the
//!   same time;
//! - a request body that stops arriving for [`ConnectionLimits::body_idle_timeout`] fails the
//!   request, which then changes nothing;
//!
//! Requests in flight are bounded by the protocols themselves ([`InFlight`]), so that the
//! answer to one too many is each protocol's own (a problem, or S3's `SlowDown`) with its
//! request id.
//!
//! Each connection's service gets the peer's address as a [`Peer`], which the rate limits key
//! on. On shutdown the listener closes, idle connections close, and requests in flight finish.

use crate::Peer;
use axum::Extension;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Sleep;
use tower::{Layer, Service, ServiceExt};

/// The bounds of one listener (configuration: `[limits]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub max_in_flight_requests: usize,
    pub header_read_timeout: Duration,
    pub body_idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            max_in_flight_requests: 1024,
            header_read_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(30),
        }
    }
}

/// The bound on requests worked on at once, shared by both protocols: one more is answered 503
/// with `Retry-After` at once rather than queued behind the others.
#[derive(Debug, Clone)]
pub struct InFlight(Arc<Semaphore>);

impl InFlight {
    pub fn new(max_requests: usize) -> Self {
        Self(Arc::new(Semaphore::new(max_requests)))
    }

    /// A place for one more request, held until it is dropped; `None` at the limit.
    pub fn try_enter(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let open_connections = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // At the limit, stop accepting until a connection closes.
        let permit = tokio::select! {
            permit = open_connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted: wait a
                    // little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let peer = Peer {
            ip: address.ip(),
            text: address.ip().to_string().into(),
        };
        let service = connection_service(Extension(peer).layer(app.clone()), limits.body_idle_timeout);
        let header_read_timeout = limits.header_read_timeout;
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            let _permit = permit;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopped.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
        // Finished connections' tasks are collected as we go.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// The service of one connection: `app`, with the request body's idle timeout.
fn connection_service<S>(
    app: S,
    body_idle_timeout: Duration,
) -> impl hyper::service::Service<hyper::Request<Incoming>, Response = Response, Error = Infallible, Future: Send>
+ Send
+ 'static
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        // A request without a body has nothing to wait for, and its empty body allocates nothing.
        let request = request.map(|body| {
            if body.is_end_stream() {
                Body::empty()
            } else {
                Body::new(IdleTimeoutBody::new(body, body_idle_timeout))
            }
        });
        app.clone().oneshot(request)
    })
}

/// A request body that fails when no frame arrives for its timeout. Its size hint is the
/// underlying body's, which the protocols read for the length of a body.
struct IdleTimeoutBody {
    body: Incoming,
    timeout: Duration,
    /// Running while a frame is awaited.
    idle: Option<Pin<Box<Sleep>>>,
}

impl IdleTimeoutBody {
    fn new(body: Incoming, timeout: Duration) -> Self {
        Self {
            body,
            timeout,
            idle: None,
        }
    }
}

impl hyper::body::Body for IdleTimeoutBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.idle = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let idle = this.idle.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match idle.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                        "the request body stopped arriving for {} s",
                        timeout.as_secs()
                    )
                    .into()))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
