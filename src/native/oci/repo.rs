//! One repository of OCI content behind one API, whichever backend holds it: a repository
//! in a registry (the distribution API through [`Client`]) or an OCI image layout
//! directory ([`Layout`]). Helm's push/pull and cosign's sign/verify are written against
//! [`Repo`], so `oci-layout://DIR` works wherever a registry reference does.
//!
//! ```text
//! Location::parse("ghcr.io/acme/chart:1.0")          registry reference
//! Location::parse("oci-layout://dist/oci/chart@sha256:…")  layout directory + tag/digest
//! Repo::open(&location, client)  -> Repo   (a layout is created on first write)
//! repo.push_blob / push_manifest / get_manifest / resolve / list_tags / referrers / fetch_blob
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Client, Layout, Manifest, OciError, Reference, Referrers};

/// Scheme that names an OCI image layout directory instead of a registry.
pub const LAYOUT_SCHEME: &str = "oci-layout://";

/// Where an artifact is: a registry reference, or a layout directory with an optional tag
/// or digest (`oci-layout://DIR[:TAG|@DIGEST]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Registry(Reference),
    Layout { dir: PathBuf, reference: String },
}

impl Location {
    /// Parses `oci-layout://DIR[:TAG][@DIGEST]` or a registry reference
    /// (`host/repo[:tag|@digest]`).
    pub fn parse(s: &str) -> Result<Location, String> {
        let Some(rest) = s.strip_prefix(LAYOUT_SCHEME) else {
            return Reference::parse(s).map(Location::Registry);
        };
        let (path_tag, digest) = match rest.rsplit_once('@') {
            Some((p, d)) => {
                if !super::reference::valid_digest(d) {
                    return Err(format!("invalid reference: invalid digest {d:?}"));
                }
                (p, Some(d))
            }
            None => (rest, None),
        };
        // A tag is a `:` suffix of the last path component (`dist/oci:1.0.0`).
        let (dir, tag) = match path_tag.rsplit_once(':') {
            Some((d, t)) if !t.contains('/') && !d.is_empty() => {
                if !super::reference::valid_tag(t) {
                    return Err(format!("invalid reference: invalid tag {t:?}"));
                }
                (d, Some(t))
            }
            _ => (path_tag, None),
        };
        let dir = dir.trim_end_matches('/');
        if dir.is_empty() {
            return Err(format!(
                "invalid reference: {s:?} names no directory (expected {LAYOUT_SCHEME}DIR[:TAG|@DIGEST])"
            ));
        }
        let reference = digest.or(tag).unwrap_or_default().to_string();
        Ok(Location::Layout {
            dir: PathBuf::from(dir),
            reference,
        })
    }

    /// The tag or digest (empty when none was given).
    pub fn reference(&self) -> &str {
        match self {
            Location::Registry(r) => &r.reference,
            Location::Layout { reference, .. } => reference,
        }
    }

    pub fn is_digest(&self) -> bool {
        self.reference().contains(':')
    }

    /// The same repository with another tag or digest.
    pub fn with_reference(&self, r: &str) -> Location {
        match self {
            Location::Registry(x) => Location::Registry(x.with_reference(r)),
            Location::Layout { dir, .. } => Location::Layout {
                dir: dir.clone(),
                reference: r.to_string(),
            },
        }
    }

    /// The repository without tag or digest: `host/repo` or `oci-layout://DIR`.
    pub fn repo_name(&self) -> String {
        match self {
            Location::Registry(r) => format!("{}/{}", r.registry, r.repository),
            Location::Layout { dir, .. } => format!("{LAYOUT_SCHEME}{}", dir.display()),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repo_name())?;
        let r = self.reference();
        if r.is_empty() {
            Ok(())
        } else if r.contains(':') {
            write!(f, "@{r}")
        } else {
            write!(f, ":{r}")
        }
    }
}

/// A repository: in a registry, or an OCI image layout directory.
pub enum Repo {
    Registry {
        /// Boxed: a client is large next to a layout handle.
        client: Box<Client>,
        host: String,
        repository: String,
    },
    Layout(Layout),
}

impl Repo {
    /// The repository `loc` names. A layout is opened if it exists and created otherwise
    /// (`create`), or refused as not found; `client` is only used for registries and is
    /// built lazily by the caller's closure so that layouts need no TLS setup.
    pub fn open(
        loc: &Location,
        create: bool,
        client: impl FnOnce() -> Result<Client, OciError>,
    ) -> Result<Repo, OciError> {
        match loc {
            Location::Registry(r) => Ok(Repo::Registry {
                client: Box::new(client()?),
                host: r.registry.clone(),
                repository: r.repository.clone(),
            }),
            Location::Layout { dir, .. } => Ok(Repo::Layout(if create {
                Layout::create(dir)?
            } else {
                Layout::open(dir)?
            })),
        }
    }

    /// `host/repo` or `oci-layout://DIR`.
    pub fn name(&self) -> String {
        match self {
            Repo::Registry {
                host, repository, ..
            } => format!("{host}/{repository}"),
            Repo::Layout(l) => format!("{LAYOUT_SCHEME}{}", l.root().display()),
        }
    }

    /// The layout directory, for a layout.
    pub fn layout_dir(&self) -> Option<&Path> {
        match self {
            Repo::Layout(l) => Some(l.root()),
            Repo::Registry { .. } => None,
        }
    }

    pub async fn push_blob(&self, data: &[u8]) -> Result<(String, bool), OciError> {
        match self {
            Repo::Registry {
                client,
                host,
                repository,
            } => client.push_blob(host, repository, data).await,
            Repo::Layout(l) => l.push_blob(data),
        }
    }

    pub async fn push_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, OciError> {
        match self {
            Repo::Registry {
                client,
                host,
                repository,
            } => {
                client
                    .push_manifest(host, repository, reference, media_type, bytes)
                    .await
            }
            Repo::Layout(l) => l.push_manifest(reference, media_type, bytes),
        }
    }

    pub async fn get_manifest(&self, reference: &str) -> Result<Manifest, OciError> {
        match self {
            Repo::Registry {
                client,
                host,
                repository,
            } => client.get_manifest(host, repository, reference).await,
            Repo::Layout(l) => l.get_manifest(reference),
        }
    }

    pub async fn resolve(&self, reference: &str) -> Result<String, OciError> {
        match self {
            Repo::Registry {
                client,
                host,
                repository,
            } => client.resolve(host, repository, reference).await,
            Repo::Layout(l) => l.resolve(reference),
        }
    }

    pub async fn list_tags(&self) -> Result<Vec<String>, OciError> {
        match self {
            Repo::Registry {
                client,
                host,
                repository,
            } => client.list_tags(host, repository).await,
            Repo::Layout(l) => l.list_tags(),
        }
    }

    pub async fn referrers(
        &self,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, OciError> {
        match self {
            Repo::Registry {
                client,
                host,
                repository,
            } => {
                client
                    .referrers(host, repository, digest, artifact_type)
                    .await
            }
            Repo::Layout(l) => l.referrers(digest, artifact_type),
        }
    }

    pub async fn fetch_blob(&self, digest: &str) -> Result<Vec<u8>, OciError> {
        match self {
            Repo::Registry {
                client,
                host,
                repository,
            } => client.fetch_blob(host, repository, digest).await,
            Repo::Layout(l) => l.fetch_blob(digest),
        }
    }

    /// The blob of a descriptor: exactly `size` bytes matching `digest`.
    pub async fn fetch_blob_sized(&self, digest: &str, size: u64) -> Result<Vec<u8>, OciError> {
        match self {
            Repo::Registry {
                client,
                host,
                repository,
            } => {
                client
                    .fetch_blob_sized(host, repository, digest, Some(size))
                    .await
            }
            Repo::Layout(l) => {
                let b = l.fetch_blob(digest)?;
                if b.len() as u64 != size {
                    return Err(OciError::Protocol(format!(
                        "blob {digest}: {} bytes where the manifest says {size} (refused)",
                        b.len()
                    )));
                }
                Ok(b)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_locations() {
        let d = format!("sha256:{}", "a".repeat(64));
        let l = Location::parse(&format!("oci-layout://dist/oci/chart@{d}")).unwrap();
        assert_eq!(
            l,
            Location::Layout {
                dir: "dist/oci/chart".into(),
                reference: d.clone()
            }
        );
        assert!(l.is_digest());
        assert_eq!(l.to_string(), format!("oci-layout://dist/oci/chart@{d}"));
        let l = Location::parse("oci-layout:///tmp/x.y/chart:0.1.0").unwrap();
        assert_eq!(l.reference(), "0.1.0");
        assert_eq!(l.repo_name(), "oci-layout:///tmp/x.y/chart");
        let l = Location::parse("oci-layout://dist/oci/").unwrap();
        assert_eq!(l.reference(), "");
        assert_eq!(l.repo_name(), "oci-layout://dist/oci");
        assert!(Location::parse("oci-layout://").is_err());
        assert!(Location::parse("oci-layout://d@sha256:zz").is_err());
        assert!(Location::parse("oci-layout://d:bad+tag").is_err());
        let r = Location::parse("h:5000/a/b:1").unwrap();
        assert_eq!(r.repo_name(), "h:5000/a/b");
        assert_eq!(r.with_reference(&d).to_string(), format!("h:5000/a/b@{d}"));
    }
}
