//! `kubecraft serve`: the simulated cluster's Kubernetes API over plain HTTP on a
//! local address, so real clients (kubectl, client-go programs, curl) can use it.
//! The cluster lives on one thread and runs in real time there: it advances as
//! wall-clock time passes (the engine itself never reads the clock). Each connection
//! has a thread that hands requests to it. Watches stream chunked JSON lines as
//! upstream's do.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use kubecraft_cluster::api::{Method, Request, Response, ResponseBody, StatusError};
use kubecraft_cluster::apiserver::watch::WatchId;
use kubecraft_cluster::sim::clock::VirtualTime;
use kubecraft_cluster::sim::World;

/// The largest request body accepted (upstream's limit, plus headroom for framing).
const MAX_BODY_BYTES: usize = 3 * 1024 * 1024 + 64 * 1024;
/// The largest request head (request line and headers).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How often the clock thread moves the cluster on, and watches look for events.
const TICK: Duration = Duration::from_millis(20);

/// What a connection asks of the cluster's thread.
enum Ask {
    /// One request from `actor`; the answer comes back on the channel.
    Call(String, Request, Sender<Response>),
    /// The events a watch has queued, as JSON lines.
    Events(WatchId, Sender<Vec<String>>),
    /// The client of a watch went away.
    CloseWatch(WatchId),
}

/// The cluster's thread: answers asks and keeps virtual time level with the wall clock.
fn run_cluster(mut world: World, asks: Receiver<Ask>) {
    let started = Instant::now();
    let base = world.now().millis();
    loop {
        match asks.recv_timeout(TICK) {
            Ok(Ask::Call(actor, request, reply)) => {
                let _ = reply.send(world.call(&actor, &request));
            }
            Ok(Ask::Events(watch, reply)) => {
                let lines = world
                    .take_watch_events(watch)
                    .iter()
                    .map(|e| format!("{}\n", e.to_json()))
                    .collect();
                let _ = reply.send(lines);
            }
            Ok(Ask::CloseWatch(watch)) => world.close_watch(watch),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let target = base + started.elapsed().as_millis() as u64;
        if target > world.now().millis() {
            world.advance_to(VirtualTime(target));
        }
    }
}

/// Serves `world` on `listen` (e.g. `127.0.0.1:8080`) until the process ends.
pub fn serve(world: World, listen: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen)?;
    let address = listener.local_addr()?;
    eprintln!(
        "kubecraft: serving the Kubernetes API on http://{address} (try: kubectl --server http://{address} get nodes)"
    );
    let (asks, inbox) = channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let asks = asks.clone();
            std::thread::spawn(move || {
                let _ = connection(stream, &asks);
            });
        }
    });
    run_cluster(world, inbox);
    Ok(())
}

/// Answers requests on one connection until the client closes it or a watch ends it.
fn connection(mut stream: TcpStream, asks: &Sender<Ask>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let request = match read_request(&mut reader)? {
            Some(Ok(request)) => request,
            Some(Err(refused)) => return write_response(&mut stream, &Response::from(refused)),
            None => return Ok(()),
        };
        let (reply, answer) = channel();
        let ask = Ask::Call(user_agent_name(&request), request, reply);
        if asks.send(ask).is_err() {
            return Ok(());
        }
        let Ok(response) = answer.recv() else {
            return Ok(());
        };
        match response.watch_id() {
            Some(_) => return stream_watch(&mut stream, &response, asks),
            None => write_response(&mut stream, &response)?,
        }
    }
}

/// Who is calling, for the trace: the user agent up to its first `/` (`kubectl`).
fn user_agent_name(request: &Request) -> String {
    let agent = request.header("user-agent").unwrap_or("http");
    agent.split(['/', ' ']).next().unwrap_or("http").to_string()
}

/// A refusal of a request this server cannot read, as a `metav1.Status`.
fn refusal(code: u16, reason: &'static str, message: String) -> StatusError {
    StatusError {
        code,
        reason,
        message,
        details: None,
    }
}

/// Reads one request; `None` at the end of the connection, `Some(Err)` for a request
/// this server refuses.
fn read_request(
    reader: &mut BufReader<TcpStream>,
) -> std::io::Result<Option<Result<Request, StatusError>>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        head.push(line.trim_end_matches(['\r', '\n']).to_string());
        if head.last().is_some_and(String::is_empty) && head.len() > 1 {
            break;
        }
        if head.iter().map(String::len).sum::<usize>() > MAX_HEAD_BYTES {
            let why = "request header fields too large".to_string();
            return Ok(Some(Err(refusal(431, "RequestHeaderFieldsTooLarge", why))));
        }
    }
    let mut words = head[0].split_whitespace();
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        let why = "malformed request line".to_string();
        return Ok(Some(Err(refusal(400, "BadRequest", why))));
    };
    let Some(method) = Method::from_name(method) else {
        let why = format!("method {method} is not supported");
        return Ok(Some(Err(refusal(405, "MethodNotAllowed", why))));
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut request = Request::new(method, percent_decode(path, false));
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        request = request.with_query(&percent_decode(key, true), percent_decode(value, true));
    }
    let mut length = 0;
    for line in head[1..].iter().filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            let why = format!("malformed header {line:?}");
            return Ok(Some(Err(refusal(400, "BadRequest", why))));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().unwrap_or(usize::MAX);
        }
        request.headers.push((name.to_string(), value.to_string()));
    }
    if length > MAX_BODY_BYTES {
        let why = "request entity too large".to_string();
        return Ok(Some(Err(refusal(413, "RequestEntityTooLarge", why))));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    // A binary body (protobuf, CBOR) is refused by the server for its media type.
    request.body = String::from_utf8_lossy(&body).into_owned();
    Ok(Some(Ok(request)))
}

/// Decodes `%XX` escapes (and, in a query, `+` as a space).
fn percent_decode(text: &str, query: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if query => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reason phrase HTTP pairs with a status code.
fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn write_head(stream: &mut TcpStream, response: &Response, framing: &str) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason_phrase(response.status)
    );
    // The framing is this server's to choose.
    let framing_headers = ["transfer-encoding", "content-length"];
    for (name, value) in &response.headers {
        if !framing_headers.contains(&name.to_ascii_lowercase().as_str()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(framing);
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())
}

fn write_response(stream: &mut TcpStream, response: &Response) -> std::io::Result<()> {
    let body = response.body_text();
    write_head(
        stream,
        response,
        &format!("Content-Length: {}\r\n", body.len()),
    )?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

/// Streams a watch's events as chunked JSON lines until the client goes away.
fn stream_watch(
    stream: &mut TcpStream,
    response: &Response,
    asks: &Sender<Ask>,
) -> std::io::Result<()> {
    let ResponseBody::Watch(watch) = response.body else {
        return write_response(stream, response);
    };
    let result = (|| {
        write_head(stream, response, "Transfer-Encoding: chunked\r\n")?;
        stream.flush()?;
        loop {
            let (reply, answer) = channel();
            if asks.send(Ask::Events(watch, reply)).is_err() {
                return Ok(());
            }
            for line in answer.recv().unwrap_or_default() {
                stream.write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes())?;
            }
            stream.flush()?;
            std::thread::sleep(TICK);
        }
    })();
    let _ = asks.send(Ask::CloseWatch(watch));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries_as_upstream_clients_encode_them() {
        assert_eq!(
            percent_decode("app%3Dweb%2Ctier+in", true),
            "app=web,tier in"
        );
        assert_eq!(percent_decode("a+b%", false), "a+b%");
        assert_eq!(reason_phrase(422), "Unprocessable Entity");
    }
}
