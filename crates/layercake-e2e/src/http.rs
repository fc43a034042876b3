//! A plain HTTP/1.0 GET from the host to a published port.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::HarnessError;

/// An HTTP answer: status code, headers (names lower-cased) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl HttpResponse {
    /// A header's value (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// `GET http://127.0.0.1:PORT/PATH` with HTTP/1.0 (the server closes the connection, so the
/// body is everything after the headers).
pub fn http_get(port: u16, path: &str) -> Result<HttpResponse, HarnessError> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let fail = |why: String| HarnessError::Http {
        url: url.clone(),
        why,
    };
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| fail(format!("connect: {e}")))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| fail(e.to_string()))?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| fail(format!("send: {e}")))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| fail(format!("read: {e}")))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| fail(format!("no end of headers in {text:?}")))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| fail(format!("no status line in {head:?}")))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body: body.to_owned(),
    })
}
