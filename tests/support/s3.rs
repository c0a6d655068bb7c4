//! A real S3 server for the tests, in-process: `s3s` speaks the S3 protocol (requests signed
//! with SigV4 and checked against one key pair), `s3s-fs` keeps each bucket as a folder of a
//! temporary directory. Served over HTTP/1.1 on a loopback port; stopped when dropped.

use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

const ACCESS_KEY: &str = "kabinet-test-access";
const SECRET_KEY: &str = "kabinet-test-secret-key-0123456789";

/// One S3 server with one bucket.
pub struct S3Server {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    pub bucket: String,
    root: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    /// Starts a server whose bucket `bucket` exists and is empty.
    pub async fn start(bucket: &str) -> anyhow::Result<Self> {
        let root = std::env::temp_dir().join(format!("kabinet-s3-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join(bucket))?;
        let fs = s3s_fs::FileSystem::new(&root).map_err(|e| anyhow::anyhow!("s3s-fs: {e:?}"))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Ok(Self {
            endpoint,
            bucket: bucket.to_owned(),
            root,
            task,
        })
    }

    /// `s3://<bucket>` with `prefix` (may be empty).
    pub fn url(&self, prefix: &str) -> String {
        if prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{prefix}", self.bucket)
        }
    }

    /// The settings an S3 client needs for this server (object_store's configuration keys, as
    /// `AWS_*` environment variables would give them).
    pub fn options(&self) -> Vec<(String, String)> {
        [
            ("aws_endpoint", self.endpoint.as_str()),
            ("aws_access_key_id", ACCESS_KEY),
            ("aws_secret_access_key", SECRET_KEY),
            ("aws_region", "us-east-1"),
            ("aws_allow_http", "true"),
            ("aws_virtual_hosted_style_request", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Every object key in the bucket, sorted (read from the server's folder).
    pub fn keys(&self) -> Vec<String> {
        let base = self.root.join(&self.bucket);
        let mut found = Vec::new();
        walk(&base, &base, &mut found);
        found.sort();
        found
    }
}

fn walk(base: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(base, &p, found);
        } else if let Ok(rel) = p.strip_prefix(base) {
            found.push(rel.to_string_lossy().into_owned());
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
