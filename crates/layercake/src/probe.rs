//! `layercake probe URL`: the HTTP health check for images that have neither Python nor curl
//! (nginx). The frontend copies its own static binary into such images. It speaks just enough
//! HTTP/1.0 to read a status line from a server on the same host; a client library would add
//! TLS and redirects we must not follow, and megabytes to every image.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
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

/// `http://host[:port][/path]` → (host, port, path). The host is an IP literal (`[…]` for
/// IPv6) or `localhost`.
fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| "only http:// URLs are supported".to_owned())?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    // `[::1]:8080`: the port follows the bracket, not the last colon inside it.
    let port_colon = match authority.rfind(']') {
        Some(bracket) => authority[bracket..].find(':').map(|i| bracket + i),
        None => authority.rfind(':'),
    };
    let (host, port) = match port_colon {
        Some(i) => (
            &authority[..i],
            authority[i + 1..]
                .parse::<u16>()
                .map_err(|_| format!("bad port `{}`", &authority[i + 1..]))?,
        ),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    Ok((host.to_owned(), port, path.to_owned()))
}

/// The addresses to try for `host`. The probe checks a server in its own container, so it takes
/// IP literals and `localhost` and resolves nothing: name resolution would link glibc's resolver
/// and NSS into the static binary (about a tenth of its size) and read files the image may lack.
fn addresses(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let ips: Vec<IpAddr> = if host.eq_ignore_ascii_case("localhost") {
        vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]
    } else {
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        vec![literal.parse::<IpAddr>().map_err(|_| {
            format!("`{host}` is not an IP address or localhost: the probe checks a server in its own container")
        })?]
    };
    Ok(ips
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

fn probe(url: &str, timeout: Duration) -> Result<u16, String> {
    let (host, port, path) = split_url(url)?;
    let mut stream = connect(&addresses(&host, port)?, timeout)?;
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

/// The first of `addresses` that accepts a connection (`localhost` may listen on one family only).
fn connect(addresses: &[SocketAddr], timeout: Duration) -> Result<TcpStream, String> {
    let mut last = String::from("no address");
    for address in addresses {
        match TcpStream::connect_timeout(address, timeout) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = format!("{address}: {error}"),
        }
    }
    Err(last)
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
        assert_eq!(
            split_url("http://[::1]:8080").unwrap(),
            ("[::1]".into(), 8080, "/".into())
        );
        assert!(split_url("https://x/").is_err());
        assert!(split_url("http://[::1]:x/").is_err());
    }

    #[test]
    fn hosts_are_ip_literals_or_localhost_never_resolved() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(addresses("localhost", 80).unwrap(), vec![v4, v6]);
        assert_eq!(addresses("LocalHost", 80).unwrap(), vec![v4, v6]);
        assert_eq!(addresses("127.0.0.1", 80).unwrap(), vec![v4]);
        assert_eq!(addresses("[::1]", 80).unwrap(), vec![v6]);
        let error = addresses("example.com", 80).unwrap_err();
        assert!(error.contains("not an IP address or localhost"), "{error}");
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
    fn localhost_reaches_a_server_on_either_family() {
        let ok = serve_once("HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!(
            probe(&format!("http://localhost:{ok}/"), Duration::from_secs(2)),
            Ok(200)
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
