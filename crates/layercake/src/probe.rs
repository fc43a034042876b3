//! `layercake probe URL`: the HTTP health check for images that have neither Python nor curl
//! (nginx). The frontend copies its own static binary into such images. It speaks just enough
//! HTTP/1.0 to read a status line from a server on the same host; a client library would add
//! TLS and redirects we must not follow, and megabytes to every image.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::ProbeArgs;

pub fn main(args: &ProbeArgs) -> ExitCode {
    match probe(&args.url, Duration::from_secs(args.timeout.max(1))) {
        Ok(status) if (200..400).contains(&status) => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("probe: {} answered {status}", args.url);
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("probe: {}: {error}", args.url);
            ExitCode::from(1)
        }
    }
}

/// `http://host[:port][/path]` → (host, port, path).
fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| "only http:// URLs are supported".to_owned())?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| format!("bad port `{port}`"))?,
        ),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    Ok((host.to_owned(), port, path.to_owned()))
}

fn probe(url: &str, timeout: Duration) -> Result<u16, String> {
    let (host, port, path) = split_url(url)?;
    let address = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| format!("`{host}` has no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: layercake-probe\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    // The status line fits in the first few bytes; read at most a small buffer's worth.
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < head.len() {
        let n = stream
            .read(&mut head[filled..])
            .map_err(|e| e.to_string())?;
        if n == 0 || head[..filled + n].contains(&b'\n') {
            filled += n;
            break;
        }
        filled += n;
    }
    parse_status(&head[..filled])
}

/// `HTTP/1.1 204 No Content` → 204.
fn parse_status(head: &[u8]) -> Result<u16, String> {
    let line = String::from_utf8_lossy(head);
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") => code
            .parse()
            .map_err(|_| format!("bad status line `{}`", line.lines().next().unwrap_or(""))),
        _ => Err("the server did not answer with HTTP".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn urls_split_into_host_port_path() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/api/health").unwrap(),
            ("127.0.0.1".into(), 8080, "/api/health".into())
        );
        assert_eq!(
            split_url("http://localhost").unwrap(),
            ("localhost".into(), 80, "/".into())
        );
        assert!(split_url("https://x/").is_err());
    }

    fn serve_once(answer: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
            conn.write_all(answer.as_bytes()).unwrap();
        });
        port
    }

    #[test]
    fn probe_reads_the_status_of_a_real_server() {
        let ok = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert_eq!(
            probe(&format!("http://127.0.0.1:{ok}/"), Duration::from_secs(2)),
            Ok(200)
        );
        let bad = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert_eq!(
            probe(&format!("http://127.0.0.1:{bad}/x"), Duration::from_secs(2)),
            Ok(503)
        );
    }

    #[test]
    fn probe_fails_when_nothing_listens() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        assert!(probe(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(1)).is_err());
    }
}
