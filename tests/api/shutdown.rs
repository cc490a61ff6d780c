//! Graceful shutdown of the real binary (what Kubernetes does to a pod):
//! on SIGTERM, /health turns 503 while requests are still served; then no
//! new connections are accepted, and every request already accepted gets
//! its full answer before the process exits.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app, AppOptions, TestApp};

const IN_FLIGHT: usize = 8;

/// A POST whose body is sent in two halves: the server has accepted the
/// request (read its head) but cannot answer until the rest arrives.
struct SlowUpload {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl SlowUpload {
    async fn start(app: &TestApp, user: &str, merchant: &str) -> SlowUpload {
        let address = app.base_url.trim_start_matches("http://");
        let body = format!(
            r#"{{"amount":"1.00","currency":"EUR","date":"2026-11-28","merchant":"{merchant}"}}"#
        );
        let head = format!(
            "POST /v1/expenses HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            app.token(user),
            body.len()
        );
        let mut stream = TcpStream::connect(address)
            .await
            .expect("the server accepts");
        let (first, rest) = body.as_bytes().split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(first).await.unwrap();
        stream.flush().await.unwrap();
        SlowUpload {
            stream,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest and reads the whole response.
    async fn finish(mut self) -> String {
        self.stream.write_all(&self.rest).await.unwrap();
        let mut response = Vec::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            self.stream.read_to_end(&mut response),
        )
        .await
        .expect("the answer comes within 10 s")
        .expect("the connection is read to its end");
        String::from_utf8_lossy(&response).into_owned()
    }
}

#[tokio::test]
async fn sigterm_drains_requests_in_flight_and_fails_readiness_first() {
    let mut app = spawn_app(
        AppOptions::default()
            .sqlite()
            .no_cache()
            .env("SHUTDOWN_DELAY_SECONDS", "2")
            .env("SHUTDOWN_TIMEOUT_SECONDS", "15"),
    )
    .await;
    let mut uploads = Vec::new();
    for i in 0..IN_FLIGHT {
        uploads.push(SlowUpload::start(&app, "drainer", &format!("in-flight {i}")).await);
    }
    // Let the server read every request head before the signal.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // During the delay: still serving, but not ready.
    let health = app
        .client
        .get(app.url("/health"))
        .send()
        .await
        .expect("still accepting");
    assert_eq!(health.status(), 503, "readiness fails while draining");
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(
        (body["status"].as_u64(), body["health"].as_str()),
        (Some(503), Some("draining")),
        "{body}"
    );

    // Every accepted request completes, after the listener has closed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    assert!(
        TcpStream::connect(&address).await.is_err(),
        "new connections are refused once draining ends"
    );
    for (i, upload) in uploads.into_iter().enumerate() {
        let response = upload.finish().await;
        assert!(
            response.starts_with("HTTP/1.1 201"),
            "request {i}: {response}"
        );
        assert!(
            response.contains(&format!("\"merchant\":\"in-flight {i}\"")),
            "request {i}: {response}"
        );
    }
    let status = app
        .wait_for_exit(Duration::from_secs(10))
        .await
        .expect("the server exits");
    assert!(status.success(), "exit status {status:?}");
}
