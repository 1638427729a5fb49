//! The HTTP side: the one target a load test may talk to, and GETs over connections of our
//! own (one per download, as each instance has its own), with hyper's HTTP/1.1 client.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The mirror under test: every request goes to this address, below this path.
#[derive(Clone, Debug)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    /// `host[:port]`, sent as the Host header.
    pub authority: String,
    pub addr: SocketAddr,
    /// Path prefix, starting and ending with `/`.
    pub base: String,
}

impl Target {
    /// Parses `http://host[:port][/path]` and resolves the host once. Only plain HTTP: a
    /// load test of a mirror on the local network needs no TLS.
    pub fn parse(url: &str) -> Result<Target, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("--target `{url}`: only http:// URLs are supported (for example http://127.0.0.1:8080/)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') || path.contains(['?', '#']) {
            return Err(format!(
                "--target `{url}`: expected http://host[:port][/path], without user, query or fragment"
            ));
        }
        let with_port = if authority.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            && !authority.ends_with(']')
        {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let addr = with_port
            .to_socket_addrs()
            .map_err(|e| format!("--target `{url}`: cannot resolve `{authority}`: {e}"))?
            .next()
            .ok_or_else(|| format!("--target `{url}`: `{authority}` resolves to no address"))?;
        let base = if path.ends_with('/') { path.to_string() } else { format!("{path}/") };
        Ok(Target { url: url.to_string(), authority: authority.to_string(), addr, base })
    }

    fn uri(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

/// Why a download failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// No TCP connection or no HTTP handshake.
    Connect(String),
    /// The whole download took longer than the timeout.
    Timeout,
    /// A response that was not 2xx.
    Status(u16),
    /// The response broke off, or held fewer bytes than expected.
    Body(String),
}

impl FetchError {
    /// The kind as written in load.json and requests.csv.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Connect(_) => "connect",
            FetchError::Timeout => "timeout",
            FetchError::Status(_) => "status",
            FetchError::Body(_) => "body",
        }
    }
}

/// One open HTTP/1.1 connection to the target.
pub struct Connection {
    sender: SendRequest<Empty<Bytes>>,
}

impl Connection {
    pub async fn open(target: &Target) -> Result<Connection, FetchError> {
        let stream = TcpStream::connect(target.addr).await.map_err(|e| FetchError::Connect(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| FetchError::Connect(e.to_string()))?;
        // The connection task ends when the sender and the last response body are dropped.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Connection { sender })
    }

    /// Sends a GET and waits for the response head: its status, and when it arrived.
    pub async fn head(
        &mut self,
        target: &Target,
        path: &str,
    ) -> Result<(u16, Instant, hyper::body::Incoming), FetchError> {
        self.sender.ready().await.map_err(|e| FetchError::Connect(e.to_string()))?;
        let request = hyper::Request::get(target.uri(path))
            .header(hyper::header::HOST, &target.authority)
            .header(hyper::header::USER_AGENT, concat!("patchfleet-load/", env!("CARGO_PKG_VERSION")))
            .body(Empty::<Bytes>::new())
            .map_err(|e| FetchError::Connect(e.to_string()))?;
        let response = self.sender.send_request(request).await.map_err(|e| FetchError::Body(e.to_string()))?;
        let at = Instant::now();
        Ok((response.status().as_u16(), at, response.into_body()))
    }

    /// GETs one object to the end, adding every body byte to `counter` as it arrives.
    /// Returns when the response head arrived and the bytes received.
    pub async fn get(
        &mut self,
        target: &Target,
        path: &str,
        expected: Option<u64>,
        counter: &AtomicU64,
    ) -> Result<(Instant, u64), FetchError> {
        let (status, first, mut body) = self.head(target, path).await?;
        let mut bytes = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| FetchError::Body(e.to_string()))?;
            if let Some(data) = frame.data_ref() {
                bytes += data.len() as u64;
                counter.fetch_add(data.len() as u64, Ordering::Relaxed);
            }
        }
        if !(200..300).contains(&status) {
            return Err(FetchError::Status(status));
        }
        if let Some(expected) = expected
            && expected != bytes
        {
            return Err(FetchError::Body(format!("{bytes} bytes received, {expected} expected")));
        }
        Ok((first, bytes))
    }
}
