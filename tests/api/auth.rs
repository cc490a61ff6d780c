//! RS256 tokens checked against a JWKS: a rotated key set is picked up
//! without a restart, and tokens with the wrong issuer, audience, key or
//! algorithm are refused. Keys are made at test time with the `openssl` CLI
//! and served by a tiny HTTP server inside the test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::helpers::*;
use crate::pki::{openssl, path_str, TempDir};

const ISSUER: &str = "https://issuer.test";
const AUDIENCE: &str = "expense-api";
const USER: &str = "rs256-user";

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd-length hex: {hex}");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// An RSA key pair: the private key to sign with, its public JWK, and its
/// public key in PEM (to forge an HS256 token keyed with it).
struct RsaKey {
    kid: String,
    private_pem: Vec<u8>,
    public_pem: Vec<u8>,
    jwk: Value,
}

impl RsaKey {
    fn generate(dir: &TempDir, kid: &str) -> RsaKey {
        let pkcs8 = dir.0.join(format!("{kid}.pem"));
        let pkcs1 = dir.0.join(format!("{kid}.rsa.pem"));
        let public = dir.0.join(format!("{kid}.pub.pem"));
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            path_str(&pkcs8),
        ]);
        // PKCS#1, the form jsonwebtoken signs RS256 with.
        openssl(&[
            "rsa",
            "-in",
            path_str(&pkcs8),
            "-traditional",
            "-out",
            path_str(&pkcs1),
        ]);
        openssl(&[
            "rsa",
            "-in",
            path_str(&pkcs8),
            "-pubout",
            "-out",
            path_str(&public),
        ]);
        let modulus = openssl(&["rsa", "-in", path_str(&pkcs8), "-noout", "-modulus"]);
        let hex = modulus
            .trim()
            .strip_prefix("Modulus=")
            .unwrap_or_else(|| panic!("unexpected openssl -modulus output: {modulus}"));
        let details = openssl(&["rsa", "-in", path_str(&pkcs8), "-noout", "-text"]);
        assert!(
            details.contains("publicExponent: 65537"),
            "expected the exponent 65537 (AQAB): {details}"
        );
        RsaKey {
            kid: kid.to_owned(),
            private_pem: std::fs::read(&pkcs1).expect("the private key"),
            public_pem: std::fs::read(&public).expect("the public key"),
            jwk: json!({
                "kty": "RSA",
                "kid": kid,
                "alg": "RS256",
                "use": "sig",
                "n": URL_SAFE_NO_PAD.encode(hex_to_bytes(hex)),
                "e": "AQAB",
            }),
        }
    }

    /// `claims` signed with this key, the header naming `kid`.
    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        let key = EncodingKey::from_rsa_pem(&self.private_pem).expect("an RSA signing key");
        jsonwebtoken::encode(&header, claims, &key).expect("an RS256 token")
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }
}

/// Valid claims for the configured issuer and audience.
fn claims() -> Value {
    json!({"sub": USER, "iss": ISSUER, "aud": AUDIENCE, "exp": unix_now() + 3600})
}

/// The permits of a server that is not held: more than any test's requests.
const OPEN: u32 = 1 << 20;

/// Serves the current key set as `{"keys": [...]}` on every request.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    /// Answers wait for a permit: none while the server is held.
    answering: Arc<Semaphore>,
    task: JoinHandle<()>,
}

impl JwksServer {
    async fn start(keys: &[&RsaKey]) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let port = listener.local_addr().expect("its address").port();
        let shared = Arc::new(Mutex::new(Value::Null));
        let fetches = Arc::new(AtomicUsize::new(0));
        let answering = Arc::new(Semaphore::new(OPEN as usize));
        let (keys_served, fetch_count, permits) =
            (shared.clone(), fetches.clone(), answering.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(
                    stream,
                    keys_served.clone(),
                    fetch_count.clone(),
                    permits.clone(),
                ));
            }
        });
        let server = JwksServer {
            url: format!("http://127.0.0.1:{port}/jwks.json"),
            keys: shared,
            fetches,
            answering,
            task,
        };
        server.publish(keys);
        server
    }

    /// Replaces the served key set.
    fn publish(&self, keys: &[&RsaKey]) {
        let set = json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() });
        *self.keys.lock().unwrap_or_else(|e| e.into_inner()) = set;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Requests are still counted, but answered only after `release`.
    async fn hold(&self) {
        self.answering
            .acquire_many(OPEN)
            .await
            .expect("the semaphore is open")
            .forget();
    }

    fn release(&self) {
        self.answering.add_permits(OPEN as usize);
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request head and answers it with the key set, then closes.
async fn answer(
    mut stream: tokio::net::TcpStream,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    answering: Arc<Semaphore>,
) {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    fetches.fetch_add(1, Ordering::SeqCst);
    let Ok(_permit) = answering.acquire().await else {
        return;
    };
    let body = keys.lock().unwrap_or_else(|e| e.into_inner()).to_string();
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A server that checks RS256 tokens against `jwks`, refetching it for
/// every unknown `kid`.
async fn app_checking(jwks: &JwksServer) -> TestApp {
    spawn_app(
        AppOptions::default()
            .sqlite()
            .no_cache()
            .without_jwt_secret()
            .env("JWT_JWKS_URL", jwks.url.clone())
            .env("JWT_ISSUER", ISSUER)
            .env("JWT_AUDIENCE", AUDIENCE)
            .env("JWT_JWKS_MIN_REFRESH_SECONDS", "0"),
    )
    .await
}

async fn list_with(app: &TestApp, token: &str) -> Resp {
    send(app.request(Method::GET, "/v1/expenses").bearer_auth(token)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_jwks_keys_are_used_without_a_restart() {
    let dir = TempDir::new();
    let key1 = RsaKey::generate(&dir, "key-1");
    let key2 = RsaKey::generate(&dir, "key-2");
    let jwks = JwksServer::start(&[&key1]).await;
    let app = app_checking(&jwks).await;

    // Key 1 is published: its tokens work.
    let token1 = key1.sign(&claims());
    let created = send(
        app.request(Method::POST, "/v1/expenses")
            .bearer_auth(&token1)
            .json(&expense_body("8.00", "USD", "2026-09-01")),
    )
    .await
    .expect_json(201);
    let listed = list_with(&app, &token1).await.expect_json(200);
    assert_eq!(
        ids(listed["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()),
        vec![id_of(&created)]
    );
    let fetches_before_rotation = jwks.fetches();
    assert!(
        fetches_before_rotation >= 1,
        "the server never fetched the JWKS"
    );

    // Rotation: only key 2 is published now. Its tokens work at once, for
    // the same user, without restarting the server.
    jwks.publish(&[&key2]);
    let token2 = key2.sign(&claims());
    let fetched = send(
        app.request(Method::GET, &expense_path(&id_of(&created)))
            .bearer_auth(&token2),
    )
    .await
    .expect_json(200);
    assert_eq!(
        fetched, created,
        "a key-2 token reads the expense made with a key-1 token"
    );
    assert!(
        jwks.fetches() > fetches_before_rotation,
        "an unknown kid must make the server fetch the JWKS again"
    );

    let now = unix_now();
    let with_claims = |extra: Value| with(claims(), extra);
    let refused = [
        (
            "wrong audience",
            key2.sign(&with_claims(json!({"aud": "another-api"}))),
        ),
        (
            "wrong issuer",
            key2.sign(&with_claims(json!({"iss": "https://evil.test"}))),
        ),
        (
            "expired",
            key2.sign(&with_claims(json!({"exp": now - 3600}))),
        ),
        (
            "without sub",
            key2.sign(&json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now + 3600})),
        ),
        (
            "signed by key 1, claiming kid key-2",
            key1.sign_as("key-2", &claims()),
        ),
        ("unknown kid", key2.sign_as("key-3", &claims())),
        ("HS256 keyed with the public key", {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("key-2".to_owned());
            jsonwebtoken::encode(
                &header,
                &claims(),
                &EncodingKey::from_secret(&key2.public_pem),
            )
            .expect("an HS256 token")
        }),
        (
            "HS256 with some secret",
            hs256_token(b"some secret", &claims()),
        ),
        ("key 1, no longer published", token1),
    ];
    for (case, token) in refused {
        list_with(&app, &token)
            .await
            .context(case)
            .assert_unauthorized();
    }
    // Key 2 still works after all those refusals.
    list_with(&app, &token2).await.expect_json(200);
}

/// The key set is fetched in the background: a process starts and serves
/// `/health` while its issuer has not answered yet, and the first token
/// waits for that same fetch instead of making another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwks_is_fetched_without_holding_up_the_start() {
    let dir = TempDir::new();
    let key = RsaKey::generate(&dir, "key-1");
    let jwks = JwksServer::start(&[&key]).await;
    jwks.hold().await;
    let app = app_checking(&jwks).await;
    let health = send(app.request(Method::GET, "/health"))
        .await
        .expect_json(200);
    assert_eq!(health["status"], "ok");

    // Answered now, within the client's 5 s timeout (a start that waited
    // for this fetch would have given it up, and the token below would
    // have made a second one).
    jwks.release();
    list_with(&app, &key.sign(&claims())).await.expect_json(200);
    assert_eq!(jwks.fetches(), 1, "one fetch, made at start");
}
