//! Route layers written as one async function of the request and the rest of the route
//! ([`Step`]), served by [`StepLayer`]: what `axum::middleware::from_fn` does, without boxing the
//! rest of the route anew for every request. The guard of every `/v1` route is one of these
//! (`crate::guard`), and so is the layer around the router.

use axum::extract::Request;
use axum::response::Response;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// The rest of the route, after a step.
#[derive(Debug)]
pub struct Next<S>(S);

impl<S> Next<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    /// Passes the request on and returns the answer.
    pub async fn run(mut self, request: Request) -> Response {
        match self.0.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// One layer of a route: it may answer the request itself, or pass it on with [`Next::run`]
/// and look at (or change) the answer.
pub trait Step: Clone + Send + Sync + 'static {
    fn run<S>(&self, request: Request, next: Next<S>) -> impl Future<Output = Response> + Send
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send;
}

/// A [`Step`] as a tower layer.
#[derive(Debug, Clone)]
pub struct StepLayer<T>(pub T);

impl<T: Clone, S> Layer<S> for StepLayer<T> {
    type Service = StepService<T, S>;

    fn layer(&self, inner: S) -> Self::Service {
        StepService {
            step: self.0.clone(),
            inner,
        }
    }
}

/// A [`Step`] in front of the rest of the route.
#[derive(Debug, Clone)]
pub struct StepService<T, S> {
    step: T,
    inner: S,
}

impl<T, S> Service<Request> for StepService<T, S>
where
    T: Step,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service that was polled ready goes with this request; a clone stays for the next.
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        let step = self.step.clone();
        Box::pin(async move { Ok(step.run(request, Next(ready)).await) })
    }
}
