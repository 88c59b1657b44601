//! Where a request came from: the client's IP address (believing `X-Forwarded-For` only from
//! trusted proxies) and user agent, as the events it causes record them.

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::HttpRequest;

/// Where a request came from, and who made it.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The principal whose request causes the events (`user:<id>`, `token:<id>`); the server
    /// itself when absent.
    pub submitter: Option<String>,
}

impl RequestMeta {
    pub fn from_request(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Self {
        let peer = req.peer_addr().map(|a| a.ip());
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        let ip = match peer {
            Some(peer) if is_trusted(&peer) => {
                // Walk X-Forwarded-For from the right: the first address not of a trusted proxy
                // is the client; anything left of it could have been forged.
                let forwarded: Vec<IpAddr> = req
                    .headers()
                    .get_all("x-forwarded-for")
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .filter_map(|part| part.trim().parse().ok())
                    .collect();
                forwarded.iter().rev().find(|ip| !is_trusted(ip)).copied().or(Some(peer))
            }
            other => other,
        };
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect::<String>())
            .filter(|ua| !ua.trim().is_empty());
        RequestMeta { ip: ip.map(|ip| ip.to_string()), user_agent, submitter: None }
    }

    /// The same request, made by `submitter`.
    pub fn by(mut self, submitter: String) -> Self {
        self.submitter = Some(submitter);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn meta(peer: &str, forwarded: Option<&str>, trusted: &str) -> Option<String> {
        let mut req = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        if let Some(f) = forwarded {
            req = req.insert_header(("x-forwarded-for", f));
        }
        RequestMeta::from_request(&req.to_http_request(), &crate::config::parse_proxies(trusted).unwrap()).ip
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        assert_eq!(meta("203.0.113.9", Some("1.2.3.4"), "").as_deref(), Some("203.0.113.9"));
        assert_eq!(meta("10.0.0.2", Some("1.2.3.4"), "10.0.0.0/8").as_deref(), Some("1.2.3.4"));
        // A forged left-most entry is skipped: the proxy appended the real client.
        assert_eq!(
            meta("10.0.0.2", Some("6.6.6.6, 1.2.3.4, 10.0.0.3"), "10.0.0.0/8").as_deref(),
            Some("1.2.3.4")
        );
        assert_eq!(meta("10.0.0.2", None, "10.0.0.2").as_deref(), Some("10.0.0.2"));
    }
}
