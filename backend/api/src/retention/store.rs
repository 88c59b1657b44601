//! Archives in object storage (`ARCHIVE_URL=s3://bucket/prefix`, any S3-compatible store, through
//! the `object_store` crate): retention writes each archive file locally, uploads it, reads it
//! back and compares its SHA-256 before the events are removed, so the store holds every
//! archive and every server process can serve any of them. `ARCHIVE_DIR` stays the local copy,
//! filled from the store when a process needs a file it did not write. Copies of the checkpoint
//! logs go to `<prefix>/checkpoints/`.
//!
//! Credentials and endpoint come from the usual variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for a store other than AWS,
//! `AWS_ALLOW_HTTP=true` for a plain-HTTP one).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

/// Bytes per uploaded part (the S3 minimum is 5 MiB for every part but the last).
const PART: usize = 8 * 1024 * 1024;

pub struct ArchiveStore {
    url: String,
    store: Arc<dyn ObjectStore>,
    prefix: Key,
    /// Drives the store's requests for the blocking threads that call it (always `Some` until
    /// dropped).
    runtime: Option<tokio::runtime::Runtime>,
    /// The size of each checkpoint log when it was last copied.
    copied_logs: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for ArchiveStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveStore").field("url", &self.url).finish()
    }
}

impl Drop for ArchiveStore {
    fn drop(&mut self) {
        // Dropped wherever its last holder goes, an async context included: without waiting.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl ArchiveStore {
    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.as_ref().expect("the store's runtime lives until it is dropped").block_on(future)
    }

    /// The store `url` names (`s3://bucket[/prefix]`), configured from the environment.
    pub fn from_url(url: &str) -> Result<Self, String> {
        Self::configured(url, &[], object_store::RetryConfig::default())
    }

    /// The store `url` names, with `options` (`aws_endpoint`, `aws_access_key_id`, … as the
    /// `AWS_*` variables name them) over the environment's, retrying as `retry` says.
    pub fn configured(
        url: &str,
        options: &[(&str, &str)],
        retry: object_store::RetryConfig,
    ) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("ARCHIVE_URL {url:?}: {e}"))?;
        if parsed.scheme() != "s3" {
            return Err(format!("ARCHIVE_URL must be s3://bucket/prefix, got {url:?}"));
        }
        let bucket = parsed.host_str().filter(|b| !b.is_empty()).ok_or("ARCHIVE_URL names no bucket")?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket).with_retry(retry);
        for (key, value) in options {
            let key = key.parse().map_err(|e| format!("object store option {key}: {e}"))?;
            builder = builder.with_config(key, *value);
        }
        let store = builder.build().map_err(|e| format!("ARCHIVE_URL {url:?}: {e}"))?;
        let prefix =
            Key::parse(parsed.path().trim_matches('/')).map_err(|e| format!("ARCHIVE_URL's prefix: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the object store's runtime: {e}"))?;
        Ok(ArchiveStore {
            url: url.to_string(),
            store: Arc::new(store),
            prefix,
            runtime: Some(runtime),
            copied_logs: Mutex::default(),
        })
    }

    /// The `ARCHIVE_URL` this store was made from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where a tenant's archive file is kept: `<prefix>/<slug>/<file name>`.
    pub fn key(&self, slug: &str, file_name: &str) -> Key {
        self.prefix.clone().join(slug).join(file_name)
    }

    /// Uploads `local` as `key` in parts, then reads it back whole: done only when the stored
    /// object's SHA-256 is `sha256`.
    pub fn put_checked(&self, local: &Path, key: &Key, sha256: &str) -> Result<(), String> {
        let mut file =
            std::fs::File::open(local).map_err(|e| format!("cannot read {}: {e}", local.display()))?;
        self.block_on(async {
            let upload = self.store.put_multipart(key).await.map_err(|e| format!("upload of {key}: {e}"))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
            let mut buffer = vec![0u8; PART];
            loop {
                let read =
                    file.read(&mut buffer).map_err(|e| format!("cannot read {}: {e}", local.display()))?;
                if read == 0 {
                    break;
                }
                writer.wait_for_capacity(2).await.map_err(|e| format!("upload of {key}: {e}"))?;
                writer.write(&buffer[..read]);
            }
            writer.finish().await.map_err(|e| format!("upload of {key}: {e}"))?;
            let stored = self.sha256_of(key).await?;
            if stored != sha256 {
                return Err(format!("{key} reads back as SHA-256 {stored}, not {sha256}"));
            }
            Ok(())
        })
    }

    async fn sha256_of(&self, key: &Key) -> Result<String, String> {
        let mut stream =
            self.store.get(key).await.map_err(|e| format!("reading back {key}: {e}"))?.into_stream();
        let mut hash = Sha256::new();
        while let Some(chunk) = stream.next().await {
            hash.update(chunk.map_err(|e| format!("reading back {key}: {e}"))?);
        }
        Ok(hex::encode(hash.finalize()))
    }

    /// Downloads `key` to `local` (through a temporary name, synced, then renamed).
    pub fn fetch(&self, key: &Key, local: &Path) -> Result<(), String> {
        // A name of this call's own: two requests fetching the same archive at once must not
        // write into one temporary file; the rename makes either whole copy the file.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = local.with_extension(format!("download-{}-{n}", std::process::id()));
        let written = self.block_on(async {
            let mut stream = self.store.get(key).await.map_err(|e| format!("{key}: {e}"))?.into_stream();
            let mut file =
                std::fs::File::create(&temp).map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
            while let Some(chunk) = stream.next().await {
                file.write_all(&chunk.map_err(|e| format!("{key}: {e}"))?)
                    .map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
            }
            file.sync_all().map_err(|e| format!("cannot write {}: {e}", temp.display()))
        });
        match written {
            Ok(()) => {
                std::fs::rename(&temp, local).map_err(|e| format!("cannot write {}: {e}", local.display()))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    /// Copies each checkpoint log in `dir` that grew since its last copy to
    /// `<prefix>/checkpoints/<name>`. Returns how many were copied.
    pub fn copy_logs(&self, dir: &Path) -> Result<usize, String> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Ok(0) };
        let mut copied = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() || !auditlog_db::archive::is_plain_name(&name) {
                continue;
            }
            let last = self.copied_logs.lock().unwrap_or_else(|e| e.into_inner()).get(&name).copied();
            if last == Some(meta.len()) {
                continue;
            }
            let bytes = std::fs::read(entry.path()).map_err(|e| format!("cannot read {name}: {e}"))?;
            let key = self.prefix.clone().join("checkpoints").join(name.as_str());
            self.block_on(self.store.put(&key, bytes.into())).map_err(|e| format!("copy of {name}: {e}"))?;
            self.copied_logs.lock().unwrap_or_else(|e| e.into_inner()).insert(name, meta.len());
            copied += 1;
        }
        Ok(copied)
    }
}
