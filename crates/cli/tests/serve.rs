//! `kubecraft serve`: real HTTP clients reach the simulated cluster's API — reads,
//! writes with their status codes, streamed watches, and refused malformed requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A running `kubecraft serve` on a free port, stopped when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubecraft"))
            .args(["serve", "--seed", "7", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubecraft runs");
        let mut line = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the server says where it listens")
            .to_string();
        Server { child, address }
    }

    /// Sends one request on a fresh connection; returns the status code and the body.
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: test/1.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let (code, length) = read_head(&mut reader);
        let mut body = vec![0; length.expect("a Content-Length")];
        reader.read_exact(&mut body).unwrap();
        (code, String::from_utf8(body).unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a response head: the status code and the Content-Length, if any.
fn read_head(reader: &mut impl BufRead) -> (u16, Option<usize>) {
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let code = status.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut length = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            return (code, length);
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse().ok();
        }
    }
}

#[test]
fn clients_read_write_and_watch_over_http() {
    let server = Server::start();
    let (code, nodes) = server.request(
        "GET",
        "/api/v1/nodes?labelSelector=kubernetes.io%2Fhostname%3Dnode-1",
        "",
    );
    assert_eq!(code, 200, "{nodes}");
    assert!(nodes.contains(r#""name":"node-1""#) && !nodes.contains(r#""name":"node-2""#));

    let mut watch = TcpStream::connect(&server.address).unwrap();
    write!(
        watch,
        "GET /api/v1/namespaces/default/configmaps?watch=true&fieldSelector=metadata.name%3Dsettings HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    .unwrap();
    let mut watch = BufReader::new(watch);
    assert_eq!(read_head(&mut watch), (200, None));

    let created = server.request(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        r#"{"metadata":{"name":"settings"},"data":{"a":"1"}}"#,
    );
    assert_eq!(created.0, 201, "{}", created.1);
    let again = server.request(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        r#"{"metadata":{"name":"settings"}}"#,
    );
    assert_eq!(again.0, 409);
    assert!(again
        .1
        .contains(r#"configmaps \"settings\" already exists"#));

    // The watch streams the creation as a chunk holding one JSON line.
    let mut size = String::new();
    watch.read_line(&mut size).unwrap();
    let mut event = String::new();
    watch.read_line(&mut event).unwrap();
    assert_eq!(usize::from_str_radix(size.trim(), 16).unwrap(), event.len());
    assert!(
        event.starts_with(r#"{"type":"ADDED","object":{"#),
        "{event}"
    );
    assert!(event.contains(r#""name":"settings""#));
}

#[test]
fn malformed_requests_are_refused() {
    let server = Server::start();
    let (code, body) = server.request("BREW", "/api/v1/pods", "");
    assert_eq!(code, 405, "{body}");
    let (code, body) = server.request("POST", "/api/v1/namespaces/default/configmaps", "{");
    assert_eq!(code, 400);
    assert!(body.contains("BadRequest"), "{body}");
}
