//! The route table. Every route is added with its access rule, and the table is recorded as
//! the router is built, so the list of routes (for the tests that go through all of them, and
//! for the roles to come) is the router's own, never a second list kept by hand.

use axum::handler::Handler;
use axum::routing::{get, post, MethodRouter};
use axum::Router;

use super::AppState;
use crate::output::layers::Audience;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; the handler renders only what the caller's audience may see (figures and
    /// documents built from public layers and aggregates).
    Public,
    /// The path names a layer (or a file of one): the layer registry decides for the caller's
    /// audience, `404` for an unknown layer and `403` for one reserved to a narrower audience
    /// (`401` when the caller sent no credentials).
    Layer,
    /// Any signed-in account (its own session and tokens).
    Account,
    /// The administrator of the service (accounts, every token, the audit log).
    Admin,
    /// Callers of this audience or a narrower one.
    Audience(Audience),
}

/// One route: its path as axum writes it (`{name}` for a segment) and its access rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub path: &'static str,
    pub access: Access,
    pub method: Method,
}

/// The method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// `GET` and `HEAD`.
    Get,
    Post,
}

/// The path the static-asset fallback answers: anything no route matched.
pub const FALLBACK: &str = "/{*asset}";

/// A router being built, with the rule of each of its routes.
pub struct Routes {
    router: Router<AppState>,
    rules: Vec<Rule>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    pub fn new() -> Routes {
        Routes {
            router: Router::new(),
            rules: Vec::new(),
        }
    }

    /// A `GET` (and `HEAD`) route.
    pub fn get<H, T>(self, path: &'static str, access: Access, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(path, access, Method::Get, get(handler))
    }

    /// A `POST` route.
    pub fn post<H, T>(self, path: &'static str, access: Access, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(path, access, Method::Post, post(handler))
    }

    /// A route whose rule is checked before the handler ([`super::auth::guard`]).
    fn route(
        mut self,
        path: &'static str,
        access: Access,
        method: Method,
        m: MethodRouter<AppState>,
    ) -> Routes {
        let m = m.route_layer(axum::middleware::from_fn(move |req, next| {
            super::auth::guard(access, req, next)
        }));
        // Two methods on one path are one route of axum.
        self.router = self.router.route(path, m);
        self.rules.push(Rule {
            path,
            access,
            method,
        });
        self
    }

    /// The handler of every path no route matched (the embedded web assets).
    pub fn fallback<H, T>(mut self, access: Access, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.fallback(get(handler));
        self.rules.push(Rule {
            path: FALLBACK,
            access,
            method: Method::Get,
        });
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.rules.extend(other.rules);
        self
    }

    /// Applies `f` to the router (layers, extensions) without changing its routes.
    pub fn map(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Routes {
        self.router = f(self.router);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<Rule>) {
        (self.router, self.rules)
    }
}
