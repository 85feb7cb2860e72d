//! The one base URL of every link the server writes (OGC links, OpenAPI `servers`, TileJSON
//! and style URLs). By default it comes from the request's `Host` (links go back where the
//! client came from); `X-Forwarded-Host`/`-Proto` are honoured only when the server is told it
//! runs behind a proxy, since anyone can send them; a configured public URL wins over both.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use thiserror::Error;

/// Where links point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// `https://host[:port][/prefix]`, without a trailing slash.
    public_url: Option<String>,
    /// Trust `X-Forwarded-Host` and `X-Forwarded-Proto` (a reverse proxy sets them).
    behind_proxy: bool,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum UrlPolicyError {
    #[error("URL pubblico non valido: {0:?} (atteso http:// o https:// seguito dall'host, senza query né frammento, es. https://abitare.ambito9.it)")]
    Invalid(String),
}

impl UrlPolicy {
    pub fn new(public_url: Option<&str>, behind_proxy: bool) -> Result<UrlPolicy, UrlPolicyError> {
        let public_url = match public_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => None,
            Some(u) => {
                let rest = u
                    .strip_prefix("https://")
                    .or_else(|| u.strip_prefix("http://"))
                    .ok_or_else(|| UrlPolicyError::Invalid(u.into()))?;
                let host = rest.split('/').next().unwrap_or("");
                let clean = valid_host(host)
                    && !rest.contains(['?', '#', ' '])
                    && rest.bytes().all(|b| b.is_ascii_graphic());
                if !clean {
                    return Err(UrlPolicyError::Invalid(u.into()));
                }
                Some(u.trim_end_matches('/').to_string())
            }
        };
        Ok(UrlPolicy {
            public_url,
            behind_proxy,
        })
    }

    pub fn behind_proxy(&self) -> bool {
        self.behind_proxy
    }

    /// The base URL for a request with these headers; empty (root-relative links) when the
    /// request names no usable host.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.public_url {
            return u.clone();
        }
        let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).map(str::trim);
        let first = |v: &str| v.split(',').next().unwrap_or("").trim().to_string();
        let forwarded_host = self
            .behind_proxy
            .then(|| get("x-forwarded-host").map(first))
            .flatten();
        let host = forwarded_host
            .or_else(|| get(header::HOST.as_str()).map(str::to_string))
            .unwrap_or_default();
        if !valid_host(&host) {
            return String::new();
        }
        let scheme = match self
            .behind_proxy
            .then(|| get("x-forwarded-proto").map(first))
            .flatten()
        {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        format!("{scheme}://{host}")
    }

    /// `Vary` for what the links depend on, when they depend on a header a cache would not
    /// otherwise key on.
    pub fn mark_vary(&self, r: &mut Response) {
        if self.public_url.is_none() && self.behind_proxy {
            add_vary(r, "X-Forwarded-Host, X-Forwarded-Proto");
        }
    }
}

/// Appends `value` to the response's `Vary`.
pub fn add_vary(r: &mut Response, value: &'static str) {
    let h = r.headers_mut();
    let merged = match h.get(header::VARY).and_then(|v| v.to_str().ok()) {
        Some(old) if !old.is_empty() => HeaderValue::from_str(&format!("{old}, {value}")).ok(),
        _ => Some(HeaderValue::from_static(value)),
    };
    if let Some(v) = merged {
        h.insert(header::VARY, v);
    }
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The base URL of the request, by the server's [`UrlPolicy`] (the default policy when the
/// router was built without one).
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let url = match parts.extensions.get::<Arc<UrlPolicy>>() {
            Some(p) => p.base_url(&parts.headers),
            None => UrlPolicy::default().base_url(&parts.headers),
        };
        Ok(BaseUrl(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarded_headers_count_only_behind_a_proxy() {
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(UrlPolicy::default().base_url(&h), "http://127.0.0.1:8080");
        let proxy = UrlPolicy::new(None, true).expect("policy");
        assert_eq!(proxy.base_url(&h), "https://evil.example");
        let public = UrlPolicy::new(Some("https://abitare.example/ambito9/"), true).expect("p");
        assert_eq!(public.base_url(&h), "https://abitare.example/ambito9");
    }

    #[test]
    fn bad_hosts_and_urls_are_refused() {
        let h = headers(&[("host", "a b<script>")]);
        assert_eq!(UrlPolicy::default().base_url(&h), "");
        for bad in [
            "ftp://x",
            "https://",
            "https://x/?a=1",
            "https://x#f",
            "x.example",
        ] {
            assert!(UrlPolicy::new(Some(bad), false).is_err(), "{bad}");
        }
    }
}
