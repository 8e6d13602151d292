//! The REAPI cache backend (src/cache/reapi.rs) against a real BuildGrid 0.4.4 server on loopback
//! (installed by .ci/install-buildgrid.sh; missing under CI=true is a failure), and against an
//! in-process REAPI server for what BuildGrid cannot be made to do: answer wrong blobs, hang,
//! demand a token, speak mTLS.

use std::collections::HashMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use bazel_remote_apis::build::bazel::semver::SemVer;
use bazel_remote_apis::google::bytestream as bs;
use bazel_remote_apis::google::rpc;
use oxtask::cache::reapi::{connect, ReapiOptions};
use oxtask::cache::{Backend, CacheError, Entry, Key, OutputFile};
use sha2::{Digest as _, Sha256};
use tonic::{Request, Response, Status, Streaming};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn key(tag: &str) -> Key {
    // Distinct per test and per run, so a reused server never answers an old entry.
    let nonce = format!("{tag}/{}/{:?}", std::process::id(), Instant::now());
    Sha256::digest(nonce.as_bytes()).into()
}

fn opts() -> ReapiOptions {
    ReapiOptions {
        timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

fn pseudo_random(n: usize, seed: u8) -> Vec<u8> {
    let mut x = 0x9e3779b97f4a7c15u64 ^ seed as u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sample_entry() -> Entry {
    Entry {
        files: vec![
            OutputFile {
                path: "dist/app.js".into(),
                mode: 0o644,
                content: b"console.log('hi')\n".to_vec(),
            },
            OutputFile {
                path: "bin/tool".into(),
                mode: 0o755,
                content: b"#!/bin/sh\necho tool\n".to_vec(),
            },
            OutputFile {
                path: "empty.txt".into(),
                mode: 0o600,
                content: Vec::new(),
            },
            // Same content as app.js: one CAS blob serves two files.
            OutputFile {
                path: "dist/copy.js".into(),
                mode: 0o640,
                content: b"console.log('hi')\n".to_vec(),
            },
        ],
        stdout: b"built 3 files\n".to_vec(),
        stderr: b"warning: none\n".to_vec(),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// BuildGrid

fn bgd() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/tools/buildgrid/bin/bgd");
    if venv.is_file() {
        return Some(venv);
    }
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("bgd"))
            .find(|p| p.is_file())
    });
    if on_path.is_none() {
        if in_ci() {
            panic!("BuildGrid (bgd) is not installed: run .ci/install-buildgrid.sh");
        }
        eprintln!("SKIP: BuildGrid (bgd) is not installed: run .ci/install-buildgrid.sh");
    }
    on_path
}

struct BuildGrid {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for BuildGrid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BuildGrid {
    /// `disk`: CAS blobs as files under the temp dir (so a test can damage them), else in memory.
    fn start(disk: bool) -> Option<BuildGrid> {
        let bgd = bgd()?;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let storage = if disk {
            format!(
                "      - !disk-storage &cas-storage\n        path: {}\n",
                dir.path().join("cas").display()
            )
        } else {
            "      - !lru-storage &cas-storage\n        size: 256M\n".to_string()
        };
        let config = format!(
            "server:\n  - !channel\n    address: \"127.0.0.1:{port}\"\n    insecure-mode: true\n\n\
             instances:\n  - name: \"\"\n    storages:\n{storage}\
             \x20   caches:\n      - !lru-action-cache &action-cache\n        storage: *cas-storage\n\
             \x20       max-cached-refs: 10000\n        allow-updates: true\n\
             \x20   services:\n      - !cas\n        storage: *cas-storage\n\
             \x20     - !bytestream\n        storage: *cas-storage\n\
             \x20     - !action-cache\n        cache: *action-cache\n"
        );
        let cfg = dir.path().join("bgd.yml");
        std::fs::write(&cfg, config).unwrap();
        let log = std::fs::File::create(dir.path().join("bgd.log")).unwrap();
        let child = Command::new(&bgd)
            .args(["server", "start"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start bgd");
        let mut bg = BuildGrid { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(bg);
            }
            if let Some(st) = bg.child.try_wait().unwrap() {
                panic!("bgd exited ({st}):\n{}", bg.log());
            }
            if Instant::now() > deadline {
                panic!("bgd did not listen within 90 s:\n{}", bg.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bgd.log")).unwrap_or_default()
    }

    fn url(&self) -> String {
        format!("grpc://127.0.0.1:{}", self.port)
    }

    /// Files of the disk CAS whose content is `data`.
    fn cas_files_holding(&self, data: &[u8]) -> Vec<PathBuf> {
        fn walk(d: &Path, data: &[u8], out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, data, out);
                } else if std::fs::read(&p).is_ok_and(|c| c == data) {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir.path().join("cas"), data, &mut out);
        out
    }
}

#[test]
fn buildgrid_round_trip_large_blob_miss_and_overwrite() {
    let Some(bg) = BuildGrid::start(false) else {
        return;
    };
    let cache = connect(&bg.url(), &opts()).unwrap();
    assert_eq!(cache.name(), bg.url());

    // A miss on an unknown key.
    assert_eq!(cache.get(&key("miss")).unwrap(), None);

    // Round trip: contents, modes, logs, a shared blob, an empty file.
    let k = key("round-trip");
    let e = sample_entry();
    cache.put(&k, &e).unwrap();
    assert_eq!(cache.get(&k).unwrap(), Some(e.clone()));
    // A second client (a second machine) sees it too.
    let other = connect(&bg.url(), &opts()).unwrap();
    assert_eq!(other.get(&k).unwrap(), Some(e));

    // Blobs over BuildGrid's 4 MiB batch limit can only travel through ByteStream.
    let k = key("large");
    let big = Entry {
        files: vec![
            OutputFile {
                path: "big.bin".into(),
                mode: 0o644,
                content: pseudo_random(9 << 20, 1),
            },
            OutputFile {
                path: "small.txt".into(),
                mode: 0o644,
                content: b"small".to_vec(),
            },
        ],
        stdout: pseudo_random(5 << 20, 2),
        stderr: Vec::new(),
    };
    cache.put(&k, &big).unwrap();
    assert_eq!(other.get(&k).unwrap(), Some(big.clone()));

    // Writing a key again replaces the entry; two writers of one key at once both finish and
    // the entry read afterwards is one of theirs, whole.
    let k = key("two-writers");
    let a = sample_entry();
    let mut b = sample_entry();
    b.stdout = b"the other writer\n".to_vec();
    std::thread::scope(|s| {
        s.spawn(|| cache.put(&k, &a).unwrap());
        s.spawn(|| other.put(&k, &b).unwrap());
    });
    let got = cache.get(&k).unwrap().unwrap();
    assert!(got == a || got == b);
    cache.put(&k, &big).unwrap();
    assert_eq!(other.get(&k).unwrap(), Some(big));
}

#[test]
fn buildgrid_blob_damaged_behind_the_servers_back() {
    let Some(bg) = BuildGrid::start(true) else {
        return;
    };
    let cache = connect(&bg.url(), &opts()).unwrap();
    let k = key("damaged");
    let mut e = sample_entry();
    let payload = pseudo_random(3000, 7);
    e.files.push(OutputFile {
        path: "payload.bin".into(),
        mode: 0o644,
        content: payload.clone(),
    });
    cache.put(&k, &e).unwrap();
    assert_eq!(cache.get(&k).unwrap(), Some(e.clone()));

    // Flip one byte of the stored blob: same size, wrong digest.
    let files = bg.cas_files_holding(&payload);
    assert_eq!(
        files.len(),
        1,
        "the disk CAS holds the blob once: {files:?}"
    );
    let mut bad = payload.clone();
    bad[1234] ^= 0x40;
    std::fs::write(&files[0], &bad).unwrap();
    match cache.get(&k) {
        Err(CacheError::Corrupt(m)) => assert!(m.contains(&bg.url()), "{m}"),
        other => panic!("a damaged blob must be Corrupt, got {other:?}"),
    }

    // A truncated blob (the large-blob path) is corrupt too.
    let k2 = key("truncated");
    let big_payload = pseudo_random(6 << 20, 9);
    let big = Entry {
        files: vec![OutputFile {
            path: "big".into(),
            mode: 0o644,
            content: big_payload.clone(),
        }],
        ..Default::default()
    };
    cache.put(&k2, &big).unwrap();
    let files = bg.cas_files_holding(&big_payload);
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::write(&files[0], &big_payload[..big_payload.len() - 10]).unwrap();
    match cache.get(&k2) {
        Err(CacheError::Corrupt(_)) => {}
        other => panic!("a truncated blob must be Corrupt, got {other:?}"),
    }

    // A blob gone from the CAS (evicted) makes the entry a miss, not an error.
    std::fs::remove_file(&files[0]).unwrap();
    assert_eq!(cache.get(&k2).unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// An in-process REAPI server with fault injection.

#[derive(Clone, Copy, PartialEq, Debug)]
enum Fault {
    None,
    /// Every blob read comes back with its first byte flipped.
    CorruptReads,
    /// Every blob read comes back one byte short.
    TruncateReads,
    /// ActionCache reads hang forever.
    HangActionCache,
    /// Capabilities: no SHA-256.
    NoSha256,
    /// Capabilities: ActionCache updates disabled.
    ReadOnly,
    /// Capabilities, ActionCache and CAS reads each answer after 400 ms.
    Slow,
}

struct Store {
    blobs: Mutex<HashMap<String, Vec<u8>>>,
    ac: Mutex<HashMap<String, re::ActionResult>>,
    fault: Mutex<Fault>,
    token: Option<String>,
    bytestream_reads: Mutex<usize>,
    bytestream_writes: Mutex<usize>,
}

#[derive(Clone)]
struct Fake(Arc<Store>);

/// Small, so modest blobs already go through ByteStream.
const FAKE_BATCH_LIMIT: i64 = 64 << 10;

impl Fake {
    fn new(token: Option<&str>) -> Fake {
        Fake(Arc::new(Store {
            blobs: Mutex::default(),
            ac: Mutex::default(),
            fault: Mutex::new(Fault::None),
            token: token.map(String::from),
            bytestream_reads: Mutex::new(0),
            bytestream_writes: Mutex::new(0),
        }))
    }
    fn set_fault(&self, f: Fault) {
        *self.0.fault.lock().unwrap() = f;
    }
    fn fault(&self) -> Fault {
        *self.0.fault.lock().unwrap()
    }
    fn check<T>(&self, r: &Request<T>) -> Result<(), Status> {
        if let Some(t) = &self.0.token {
            let md = r.metadata();
            let bearer = md.get("authorization").and_then(|v| v.to_str().ok());
            // A service-specific key header, as BuildBuddy's x-buildbuddy-api-key.
            let key = md.get("x-test-api-key").and_then(|v| v.to_str().ok());
            if bearer != Some(format!("Bearer {t}").as_str()) && key != Some(t.as_str()) {
                return Err(Status::unauthenticated("bad or missing token"));
            }
        }
        Ok(())
    }
    async fn delay(&self) {
        if self.fault() == Fault::Slow {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }
    fn damage(&self, mut data: Vec<u8>) -> Vec<u8> {
        match self.fault() {
            Fault::CorruptReads if !data.is_empty() => data[0] ^= 1,
            Fault::TruncateReads => {
                data.pop();
            }
            _ => {}
        }
        data
    }
    fn hash(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }
}

type BoxStream<T> = Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl re::capabilities_server::Capabilities for Fake {
    async fn get_capabilities(
        &self,
        r: Request<re::GetCapabilitiesRequest>,
    ) -> Result<Response<re::ServerCapabilities>, Status> {
        self.check(&r)?;
        self.delay().await;
        let f = self.fault();
        let sha = re::digest_function::Value::Sha256 as i32;
        let md5 = re::digest_function::Value::Md5 as i32;
        Ok(Response::new(re::ServerCapabilities {
            cache_capabilities: Some(re::CacheCapabilities {
                digest_functions: vec![if f == Fault::NoSha256 { md5 } else { sha }],
                action_cache_update_capabilities: Some(re::ActionCacheUpdateCapabilities {
                    update_enabled: f != Fault::ReadOnly,
                }),
                max_batch_total_size_bytes: FAKE_BATCH_LIMIT,
                ..Default::default()
            }),
            low_api_version: Some(SemVer {
                major: 2,
                ..Default::default()
            }),
            high_api_version: Some(SemVer {
                major: 2,
                minor: 3,
                ..Default::default()
            }),
            ..Default::default()
        }))
    }
}

#[tonic::async_trait]
impl re::action_cache_server::ActionCache for Fake {
    async fn get_action_result(
        &self,
        r: Request<re::GetActionResultRequest>,
    ) -> Result<Response<re::ActionResult>, Status> {
        self.check(&r)?;
        if self.fault() == Fault::HangActionCache {
            std::future::pending::<()>().await;
        }
        self.delay().await;
        let d = r.into_inner().action_digest.unwrap_or_default();
        match self.0.ac.lock().unwrap().get(&d.hash) {
            Some(ar) => Ok(Response::new(ar.clone())),
            None => Err(Status::not_found("no such action")),
        }
    }
    async fn update_action_result(
        &self,
        r: Request<re::UpdateActionResultRequest>,
    ) -> Result<Response<re::ActionResult>, Status> {
        self.check(&r)?;
        let r = r.into_inner();
        let ar = r.action_result.unwrap_or_default();
        let d = r.action_digest.unwrap_or_default();
        self.0.ac.lock().unwrap().insert(d.hash, ar.clone());
        Ok(Response::new(ar))
    }
}

#[tonic::async_trait]
impl re::content_addressable_storage_server::ContentAddressableStorage for Fake {
    async fn find_missing_blobs(
        &self,
        r: Request<re::FindMissingBlobsRequest>,
    ) -> Result<Response<re::FindMissingBlobsResponse>, Status> {
        self.check(&r)?;
        let blobs = self.0.blobs.lock().unwrap();
        let missing = r
            .into_inner()
            .blob_digests
            .into_iter()
            .filter(|d| !blobs.contains_key(&d.hash))
            .collect();
        Ok(Response::new(re::FindMissingBlobsResponse {
            missing_blob_digests: missing,
        }))
    }
    async fn batch_update_blobs(
        &self,
        r: Request<re::BatchUpdateBlobsRequest>,
    ) -> Result<Response<re::BatchUpdateBlobsResponse>, Status> {
        self.check(&r)?;
        let mut total = 0;
        let mut responses = Vec::new();
        for q in r.into_inner().requests {
            total += q.data.len() as i64;
            let d = q.digest.unwrap_or_default();
            let ok = Fake::hash(&q.data) == d.hash && q.data.len() as i64 == d.size_bytes;
            if ok {
                self.0.blobs.lock().unwrap().insert(d.hash.clone(), q.data);
            }
            responses.push(re::batch_update_blobs_response::Response {
                digest: Some(d),
                status: Some(rpc::Status {
                    code: if ok {
                        0
                    } else {
                        tonic::Code::InvalidArgument as i32
                    },
                    ..Default::default()
                }),
            });
        }
        if total > FAKE_BATCH_LIMIT {
            return Err(Status::invalid_argument("batch over the advertised limit"));
        }
        Ok(Response::new(re::BatchUpdateBlobsResponse { responses }))
    }
    async fn batch_read_blobs(
        &self,
        r: Request<re::BatchReadBlobsRequest>,
    ) -> Result<Response<re::BatchReadBlobsResponse>, Status> {
        self.check(&r)?;
        self.delay().await;
        let mut responses = Vec::new();
        let mut total = 0;
        for d in r.into_inner().digests {
            total += d.size_bytes;
            let data = self.0.blobs.lock().unwrap().get(&d.hash).cloned();
            let code = if data.is_some() {
                0
            } else {
                tonic::Code::NotFound as i32
            };
            responses.push(re::batch_read_blobs_response::Response {
                digest: Some(d),
                data: self.damage(data.unwrap_or_default()),
                status: Some(rpc::Status {
                    code,
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        if total > FAKE_BATCH_LIMIT {
            return Err(Status::invalid_argument("batch over the advertised limit"));
        }
        Ok(Response::new(re::BatchReadBlobsResponse { responses }))
    }
    type GetTreeStream = BoxStream<re::GetTreeResponse>;
    async fn get_tree(
        &self,
        _: Request<re::GetTreeRequest>,
    ) -> Result<Response<Self::GetTreeStream>, Status> {
        Err(Status::unimplemented("GetTree"))
    }
    async fn split_blob(
        &self,
        _: Request<re::SplitBlobRequest>,
    ) -> Result<Response<re::SplitBlobResponse>, Status> {
        Err(Status::unimplemented("SplitBlob"))
    }
    type GetChunkMappingStream = BoxStream<re::GetChunkMappingResponse>;
    async fn get_chunk_mapping(
        &self,
        _: Request<re::GetChunkMappingRequest>,
    ) -> Result<Response<Self::GetChunkMappingStream>, Status> {
        Err(Status::unimplemented("GetChunkMapping"))
    }
    async fn splice_blob(
        &self,
        _: Request<re::SpliceBlobRequest>,
    ) -> Result<Response<re::SpliceBlobResponse>, Status> {
        Err(Status::unimplemented("SpliceBlob"))
    }
    async fn register_chunk_mapping(
        &self,
        _: Request<Streaming<re::RegisterChunkMappingRequest>>,
    ) -> Result<Response<re::RegisterChunkMappingResponse>, Status> {
        Err(Status::unimplemented("RegisterChunkMapping"))
    }
}

/// `[INSTANCE/]blobs/HASH/SIZE` or `[INSTANCE/]uploads/UUID/blobs/HASH/SIZE` → HASH, SIZE.
fn parse_resource(name: &str) -> Result<(String, i64), Status> {
    let parts: Vec<&str> = name.split('/').collect();
    let i = parts
        .iter()
        .rposition(|p| *p == "blobs")
        .ok_or_else(|| Status::invalid_argument("resource name"))?;
    let hash = parts
        .get(i + 1)
        .ok_or_else(|| Status::invalid_argument("hash"))?;
    let size = parts
        .get(i + 2)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Status::invalid_argument("size"))?;
    Ok((hash.to_string(), size))
}

#[tonic::async_trait]
impl bs::byte_stream_server::ByteStream for Fake {
    type ReadStream = BoxStream<bs::ReadResponse>;
    async fn read(
        &self,
        r: Request<bs::ReadRequest>,
    ) -> Result<Response<Self::ReadStream>, Status> {
        self.check(&r)?;
        *self.0.bytestream_reads.lock().unwrap() += 1;
        let (hash, _) = parse_resource(&r.get_ref().resource_name)?;
        let data = self
            .0
            .blobs
            .lock()
            .unwrap()
            .get(&hash)
            .cloned()
            .ok_or_else(|| Status::not_found("blob"))?;
        let data = self.damage(data);
        let chunks: Vec<Result<bs::ReadResponse, Status>> = data
            .chunks(16 << 10)
            .map(|c| Ok(bs::ReadResponse { data: c.to_vec() }))
            .collect();
        Ok(Response::new(Box::pin(tokio_stream::iter(chunks))))
    }
    async fn write(
        &self,
        r: Request<Streaming<bs::WriteRequest>>,
    ) -> Result<Response<bs::WriteResponse>, Status> {
        self.check(&r)?;
        *self.0.bytestream_writes.lock().unwrap() += 1;
        let mut s = r.into_inner();
        let mut name = String::new();
        let mut data = Vec::new();
        while let Some(m) = s.message().await? {
            if name.is_empty() {
                name = m.resource_name.clone();
            }
            if m.write_offset != data.len() as i64 {
                return Err(Status::invalid_argument("write_offset"));
            }
            data.extend_from_slice(&m.data);
            if m.finish_write {
                break;
            }
        }
        let (hash, size) = parse_resource(&name)?;
        if !name.contains("uploads/") || Fake::hash(&data) != hash || data.len() as i64 != size {
            return Err(Status::invalid_argument("digest mismatch"));
        }
        self.0.blobs.lock().unwrap().insert(hash, data);
        Ok(Response::new(bs::WriteResponse {
            committed_size: size,
        }))
    }
    async fn query_write_status(
        &self,
        _: Request<bs::QueryWriteStatusRequest>,
    ) -> Result<Response<bs::QueryWriteStatusResponse>, Status> {
        Err(Status::unimplemented("QueryWriteStatus"))
    }
}

/// Serves `fake` on a loopback port until dropped.
struct FakeServer {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(fake: Fake, tls: Option<tonic::transport::ServerTlsConfig>) -> FakeServer {
    let std_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let port = std_listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let mut b = tonic::transport::Server::builder();
            if let Some(t) = tls {
                b = b.tls_config(t).unwrap();
            }
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            b.add_service(re::capabilities_server::CapabilitiesServer::new(
                fake.clone(),
            ))
            .add_service(re::action_cache_server::ActionCacheServer::new(
                fake.clone(),
            ))
            .add_service(
                re::content_addressable_storage_server::ContentAddressableStorageServer::new(
                    fake.clone(),
                )
                .max_decoding_message_size(32 << 20),
            )
            .add_service(bs::byte_stream_server::ByteStreamServer::new(fake))
            .serve_with_incoming_shutdown(incoming, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        // Handlers parked forever (the hang fault) must not keep the runtime alive.
        rt.shutdown_background();
    });
    FakeServer {
        port,
        stop: Some(tx),
        thread: Some(thread),
    }
}

fn fake_url(s: &FakeServer) -> String {
    format!("grpc://127.0.0.1:{}/main/ci", s.port)
}

#[test]
fn fake_round_trip_uses_bytestream_above_the_batch_limit() {
    let fake = Fake::new(None);
    let srv = serve(fake.clone(), None);
    let cache = connect(&fake_url(&srv), &opts()).unwrap();
    let k = key("fake-round-trip");
    let mut e = sample_entry();
    e.files.push(OutputFile {
        path: "over-the-limit.bin".into(),
        mode: 0o700,
        content: pseudo_random(FAKE_BATCH_LIMIT as usize + 1, 3),
    });
    cache.put(&k, &e).unwrap();
    assert_eq!(*fake.0.bytestream_writes.lock().unwrap(), 1);
    assert_eq!(cache.get(&k).unwrap(), Some(e.clone()));
    assert_eq!(*fake.0.bytestream_reads.lock().unwrap(), 1);
    // Content already in the CAS is not sent again.
    cache.put(&k, &e).unwrap();
    assert_eq!(*fake.0.bytestream_writes.lock().unwrap(), 1);
    // Called from inside a caller's own runtime (the task runner's), the blocking calls
    // still work instead of panicking on a nested runtime.
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let got = outer.block_on(async { cache.get(&k) });
    assert_eq!(got.unwrap(), Some(e.clone()));
    // One backend shared by parallel tasks: calls from several threads at once.
    std::thread::scope(|s| {
        for i in 0..4 {
            let (cache, e) = (&cache, &e);
            s.spawn(move || {
                let k = key(&format!("parallel{i}"));
                for _ in 0..5 {
                    cache.put(&k, e).unwrap();
                    assert_eq!(cache.get(&k).unwrap().as_ref(), Some(e));
                }
            });
        }
    });
}

#[test]
fn fake_wrong_or_truncated_blobs_are_corrupt() {
    let fake = Fake::new(None);
    let srv = serve(fake.clone(), None);
    let cache = connect(&fake_url(&srv), &opts()).unwrap();
    let small = key("small");
    cache.put(&small, &sample_entry()).unwrap();
    let large = key("large");
    let big = Entry {
        files: vec![OutputFile {
            path: "big".into(),
            mode: 0o644,
            content: pseudo_random(200 << 10, 4),
        }],
        ..Default::default()
    };
    cache.put(&large, &big).unwrap();
    for fault in [Fault::CorruptReads, Fault::TruncateReads] {
        fake.set_fault(fault);
        for k in [&small, &large] {
            match cache.get(k) {
                Err(CacheError::Corrupt(_)) => {}
                other => panic!("{fault:?}: expected Corrupt, got {other:?}"),
            }
        }
    }
    fake.set_fault(Fault::None);
    assert_eq!(cache.get(&large).unwrap(), Some(big));
}

#[test]
fn fake_entry_with_unsafe_paths_or_bad_modes_is_corrupt() {
    let fake = Fake::new(None);
    let srv = serve(fake.clone(), None);
    let cache = connect(&fake_url(&srv), &opts()).unwrap();
    let k = key("unsafe");
    cache.put(&k, &sample_entry()).unwrap();
    let (_, _, ad) = oxtask::cache::reapi::action_for(&k);
    let good = fake.0.ac.lock().unwrap()[&ad.hash].clone();
    let mut cases: Vec<(&str, re::ActionResult)> = Vec::new();
    for p in ["../escape", "/etc/passwd", "a/../../b", "a//b"] {
        let mut ar = good.clone();
        ar.output_files[0].path = p.into();
        cases.push((p, ar));
    }
    let mut ar = good.clone();
    ar.output_files[1].path = ar.output_files[0].path.clone();
    cases.push(("duplicate path", ar));
    let mut ar = good.clone();
    let mut nested = ar.output_files[0].clone();
    nested.path = format!("{}/inside", ar.output_files[0].path);
    ar.output_files.push(nested);
    cases.push(("file and directory at once", ar));
    let mut ar = good.clone();
    ar.exit_code = 1;
    cases.push(("exit code", ar));
    let mut ar = good.clone();
    ar.output_files[0].is_executable = true; // mode says 0644
    cases.push(("mode vs is_executable", ar));
    let mut ar = good.clone();
    ar.output_symlinks.push(re::OutputSymlink {
        path: "link".into(),
        target: "/etc".into(),
        ..Default::default()
    });
    cases.push(("symlink", ar));
    let mut ar = good.clone();
    ar.stdout_raw = b"not what the digest says".to_vec();
    cases.push(("inline stdout", ar));
    for (what, ar) in cases {
        fake.0.ac.lock().unwrap().insert(ad.hash.clone(), ar);
        match cache.get(&k) {
            Err(CacheError::Corrupt(_)) => {}
            other => panic!("{what}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn fake_capabilities_are_checked_first() {
    let fake = Fake::new(None);
    let srv = serve(fake.clone(), None);
    fake.set_fault(Fault::NoSha256);
    let cache = connect(&fake_url(&srv), &opts()).unwrap();
    let e = cache.get(&key("caps")).unwrap_err();
    assert!(
        matches!(e, CacheError::Protocol(_)) && e.to_string().contains("SHA-256"),
        "{e}"
    );
    assert!(fake.0.ac.lock().unwrap().is_empty());

    fake.set_fault(Fault::ReadOnly);
    let cache = connect(&fake_url(&srv), &opts()).unwrap();
    let e = cache.put(&key("ro"), &sample_entry()).unwrap_err();
    assert!(matches!(e, CacheError::Auth(_)), "{e}");
    assert!(fake.0.blobs.lock().unwrap().is_empty(), "nothing uploaded");
    assert_eq!(cache.get(&key("ro")).unwrap(), None, "reads still work");
}

#[test]
fn fake_bearer_token_is_sent_and_never_shown() {
    let fake = Fake::new(Some("tok-s3cr3t"));
    let srv = serve(fake.clone(), None);
    let url = format!("grpc://localhost:{}", srv.port);
    let good = ReapiOptions {
        bearer_token: Some("tok-s3cr3t".into()),
        ..opts()
    };
    let cache = connect(&url, &good).unwrap();
    let k = key("token");
    cache.put(&k, &sample_entry()).unwrap();
    assert_eq!(cache.get(&k).unwrap(), Some(sample_entry()));
    let header = ReapiOptions {
        bearer_token: Some("x-test-api-key=tok-s3cr3t".into()),
        ..opts()
    };
    assert_eq!(
        connect(&url, &header).unwrap().get(&k).unwrap(),
        Some(sample_entry())
    );
    let verbatim = ReapiOptions {
        bearer_token: Some("authorization=Bearer tok-s3cr3t".into()),
        ..opts()
    };
    assert_eq!(
        connect(&url, &verbatim).unwrap().get(&k).unwrap(),
        Some(sample_entry())
    );

    for o in [
        opts(),
        ReapiOptions {
            bearer_token: Some("wrong-s3cr3t".into()),
            ..opts()
        },
    ] {
        let c = connect(&url, &o).unwrap();
        let e = c.get(&k).unwrap_err();
        assert!(matches!(e, CacheError::Auth(_)), "{e}");
        let shown = format!("{e} {e:?} {}", c.name());
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}

#[test]
fn server_down_is_unreachable_in_bounded_time() {
    let port = free_port(); // bound and released: nothing listens there
    let o = ReapiOptions {
        timeout: Duration::from_millis(1500),
        ..Default::default()
    };
    let cache = connect(&format!("grpc://127.0.0.1:{port}"), &o).unwrap();
    let t = Instant::now();
    let e = cache.get(&key("down")).unwrap_err();
    assert!(matches!(e, CacheError::Unreachable(_)), "{e}");
    let e = cache.put(&key("down"), &sample_entry()).unwrap_err();
    assert!(matches!(e, CacheError::Unreachable(_)), "{e}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

#[test]
fn hanging_servers_time_out() {
    let o = ReapiOptions {
        timeout: Duration::from_millis(800),
        ..Default::default()
    };
    // A TCP peer that accepts and never speaks HTTP/2.
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = mute.local_addr().unwrap().port();
    let cache = connect(&format!("grpc://127.0.0.1:{port}"), &o).unwrap();
    let t = Instant::now();
    let e = cache.get(&key("mute")).unwrap_err();
    assert!(matches!(e, CacheError::Unreachable(_)), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    drop(mute);

    // A gRPC server whose ActionCache never answers.
    let fake = Fake::new(None);
    let srv = serve(fake.clone(), None);
    fake.set_fault(Fault::HangActionCache);
    let cache = connect(&fake_url(&srv), &o).unwrap();
    let t = Instant::now();
    let e = cache.get(&key("hang")).unwrap_err();
    assert!(matches!(e, CacheError::Unreachable(_)), "{e}");
    assert!(e.to_string().contains("GetActionResult"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[test]
fn a_server_slow_on_every_call_costs_one_timeout_per_lookup() {
    let fake = Fake::new(None);
    let srv = serve(fake.clone(), None);
    let k = key("slow");
    connect(&fake_url(&srv), &opts())
        .unwrap()
        .put(&k, &sample_entry())
        .unwrap();
    fake.set_fault(Fault::Slow);
    // Each call (capabilities, action cache, blob read) fits in the timeout; all three do not.
    let o = ReapiOptions {
        timeout: Duration::from_millis(1000),
        ..Default::default()
    };
    let cache = connect(&fake_url(&srv), &o).unwrap();
    let t = Instant::now();
    let e = cache.get(&k).unwrap_err();
    assert!(matches!(e, CacheError::Unreachable(_)), "{e}");
    assert!(
        t.elapsed() < Duration::from_millis(1600),
        "{:?}",
        t.elapsed()
    );
    // With room for all three it is a hit.
    let roomy = ReapiOptions {
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let cache = connect(&fake_url(&srv), &roomy).unwrap();
    assert_eq!(cache.get(&k).unwrap(), Some(sample_entry()));
}

// ---------------------------------------------------------------------------------------------
// TLS and mTLS against the in-process server, with a throwaway CA.

struct Pki {
    dir: tempfile::TempDir,
    server: tonic::transport::Identity,
    ca_pem: String,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut sp = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    sp.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let sk = KeyPair::generate().unwrap();
    let sc = sp.signed_by(&sk, &ca, &ca_key).unwrap();
    let cp = CertificateParams::new(vec!["oxtask-client".to_string()]).unwrap();
    let ck = KeyPair::generate().unwrap();
    let cc = cp.signed_by(&ck, &ca, &ca_key).unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path().join("client.pem"), cc.pem()).unwrap();
    std::fs::write(dir.path().join("client.key"), ck.serialize_pem()).unwrap();
    Pki {
        server: tonic::transport::Identity::from_pem(sc.pem(), sk.serialize_pem()),
        ca_pem: ca.pem(),
        dir,
    }
}

#[test]
fn tls_and_mutual_tls() {
    let p = pki();
    let ca = tonic::transport::Certificate::from_pem(&p.ca_pem);
    let tls = tonic::transport::ServerTlsConfig::new()
        .identity(p.server.clone())
        .client_ca_root(ca);
    let fake = Fake::new(Some("mtls-s3cr3t"));
    let srv = serve(fake, Some(tls));
    let url = format!("grpcs://localhost:{}/inst", srv.port);
    let full = ReapiOptions {
        bearer_token: Some("mtls-s3cr3t".into()),
        ca_cert: Some(p.dir.path().join("ca.pem")),
        client_cert: Some(p.dir.path().join("client.pem")),
        client_key: Some(p.dir.path().join("client.key")),
        ..opts()
    };
    let cache = connect(&url, &full).unwrap();
    let k = key("tls");
    cache.put(&k, &sample_entry()).unwrap();
    assert_eq!(cache.get(&k).unwrap(), Some(sample_entry()));

    // Without the client certificate the server refuses the handshake.
    let no_client = ReapiOptions {
        client_cert: None,
        client_key: None,
        ..full.clone()
    };
    let e = connect(&url, &no_client).unwrap().get(&k).unwrap_err();
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
    // Without our CA the server's certificate is not trusted (system roots only).
    let no_ca = ReapiOptions {
        ca_cert: None,
        ..full.clone()
    };
    assert!(connect(&url, &no_ca).unwrap().get(&k).is_err());
    // A key file that is not one is refused up front, naming the file, not its content.
    let junk = p.dir.path().join("junk.key");
    std::fs::write(&junk, "not a key s3cr3t").unwrap();
    let bad_key = ReapiOptions {
        client_key: Some(junk),
        ..full
    };
    match connect(&url, &bad_key) {
        Ok(c) => {
            let e = c.get(&k).unwrap_err().to_string();
            assert!(!e.contains("s3cr3t"), "{e}");
        }
        Err(e) => assert!(!e.to_string().contains("s3cr3t"), "{e}"),
    }
}

#[test]
fn pem_files_are_size_limited() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.pem");
    let mut f = std::fs::File::create(&big).unwrap();
    std::io::copy(&mut std::io::repeat(b'A').take(2 << 20), &mut f).unwrap();
    let o = ReapiOptions {
        ca_cert: Some(big),
        ..opts()
    };
    let e = connect("grpcs://localhost:1", &o).err().unwrap();
    assert!(
        matches!(e, CacheError::Io(_)) && e.to_string().contains("big.pem"),
        "{e}"
    );
}

/// Not a timed test: prints the figures docs/remote-execution.md quotes. Run with
/// `cargo test --test cache_reapi -- --ignored --nocapture buildgrid_figures`.
#[test]
#[ignore]
fn buildgrid_figures() {
    let Some(bg) = BuildGrid::start(false) else {
        return;
    };
    let cache = connect(&bg.url(), &opts()).unwrap();
    let per = |n: u32, t: Instant| t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let t = Instant::now();
    assert_eq!(cache.get(&key("first")).unwrap(), None);
    println!("first lookup (capabilities + miss): {:.1} ms", per(1, t));
    let n = 50;
    let keys: Vec<Key> = (0..n).map(|i| key(&format!("fig{i}"))).collect();
    let t = Instant::now();
    for k in &keys {
        assert_eq!(cache.get(k).unwrap(), None);
    }
    println!("miss: {:.2} ms each", per(n, t));
    let e = sample_entry();
    let t = Instant::now();
    for k in &keys {
        cache.put(k, &e).unwrap();
    }
    println!("put (4 files, logs, ~100 B): {:.2} ms each", per(n, t));
    let t = Instant::now();
    for k in &keys {
        assert!(cache.get(k).unwrap().is_some());
    }
    println!("hit (same entry): {:.2} ms each", per(n, t));
    let big = Entry {
        files: vec![OutputFile {
            path: "big".into(),
            mode: 0o644,
            content: pseudo_random(64 << 20, 5),
        }],
        ..Default::default()
    };
    let slow = ReapiOptions {
        timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let cache = connect(&bg.url(), &slow).unwrap();
    let k = key("fig-big");
    let t = Instant::now();
    cache.put(&k, &big).unwrap();
    let s = t.elapsed().as_secs_f64();
    println!("put 64 MiB (ByteStream): {s:.2} s, {:.0} MiB/s", 64.0 / s);
    let t = Instant::now();
    assert_eq!(
        cache.get(&k).unwrap().unwrap().files[0].content.len(),
        64 << 20
    );
    let s = t.elapsed().as_secs_f64();
    println!("get 64 MiB (ByteStream): {s:.2} s, {:.0} MiB/s", 64.0 / s);
}

// ---------------------------------------------------------------------------------------------
// `task --cache grpc://…`: the whole path, two clones of one project sharing BuildGrid.

const TASKFILE: &str = r#"version: '3'
tasks:
  default:
    deps: [gen, docs]
  gen:
    sources: [src/*.txt]
    generates: [out/gen.bin, out/nested/list.txt]
    cmds:
      - mkdir -p out/nested
      - cat src/*.txt | tr a-z A-Z > out/gen.bin && chmod 700 out/gen.bin
      - ls src > out/nested/list.txt
      - echo "gen ran" >> "$RUN_LOG"
      - echo gen-stdout; echo gen-stderr >&2
  docs:
    sources: [README]
    generates: [README.html]
    cmds:
      - sed 's/^/<p>/' README > README.html
      - echo "docs ran" >> "$RUN_LOG"
"#;

fn project(base: &Path, name: &str) -> PathBuf {
    let d = base.join(name);
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::write(d.join("Taskfile.yml"), TASKFILE).unwrap();
    std::fs::write(d.join("src/a.txt"), "alpha\n").unwrap();
    std::fs::write(d.join("src/b.txt"), "beta\n").unwrap();
    std::fs::write(d.join("README"), "hello\nworld\n").unwrap();
    d
}

fn task_in(dir: &Path, log: &Path, url: &str) -> std::process::Output {
    let o = Command::new(env!("CARGO_BIN_EXE_task"))
        .args(["--cache", url])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUN_LOG", log)
        .env_remove("OXTASK_CACHE")
        .env_remove("OXTASK_CACHE_MODE")
        .env_remove("OXTASK_CACHE_TOKEN")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn outputs(dir: &Path) -> Vec<(String, u32, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    ["out/gen.bin", "out/nested/list.txt", "README.html"]
        .iter()
        .map(|p| {
            let f = dir.join(p);
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            (p.to_string(), mode, std::fs::read(&f).unwrap())
        })
        .collect()
}

#[test]
fn task_cache_through_buildgrid_two_clones() {
    let Some(bg) = BuildGrid::start(false) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (project(tmp.path(), "a"), project(tmp.path(), "b"));
    let (la, lb) = (tmp.path().join("a.log"), tmp.path().join("b.log"));
    let runs = |l: &Path| {
        std::fs::read_to_string(l)
            .unwrap_or_default()
            .lines()
            .count()
    };

    let first = task_in(&a, &la, &bg.url());
    assert_eq!(runs(&la), 2, "both tasks ran in the first clone");
    assert!(String::from_utf8_lossy(&first.stdout).contains("gen-stdout"));

    let second = task_in(&b, &lb, &bg.url());
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(runs(&lb), 0, "nothing runs in the second clone:\n{err}");
    assert_eq!(
        err.matches("restored from cache grpc://").count(),
        2,
        "{err}"
    );
    assert!(err.contains("gen-stderr"), "{err}");
    assert_eq!(String::from_utf8_lossy(&second.stdout), "gen-stdout\n");
    assert_eq!(outputs(&a), outputs(&b));
    assert_eq!(outputs(&b)[0].1, 0o700);
    assert_eq!(outputs(&b)[0].2, b"ALPHA\nBETA\n");

    // A changed source in one task misses for that task only.
    std::fs::remove_dir_all(b.join(".task")).unwrap();
    std::fs::write(b.join("src/b.txt"), "gamma\n").unwrap();
    let third = task_in(&b, &lb, &bg.url());
    let err = String::from_utf8_lossy(&third.stderr);
    assert_eq!(std::fs::read_to_string(&lb).unwrap(), "gen ran\n", "{err}");
    assert_eq!(
        std::fs::read(b.join("out/gen.bin")).unwrap(),
        b"ALPHA\nGAMMA\n"
    );
    assert!(
        err.contains("is up to date") || err.contains("restored from cache"),
        "{err}"
    );
}
