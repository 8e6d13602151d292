//! OIDC identity tokens for keyless signing: `--identity-token`, `SIGSTORE_ID_TOKEN`, or
//! GitHub Actions' ambient credentials. The token is only decoded here (Fulcio verifies
//! it); it is never printed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde_json::Value;
use zeroize::Zeroizing;

use super::Error;

/// Audience Sigstore's Fulcio expects.
pub const AUDIENCE: &str = "sigstore";

pub struct IdToken {
    raw: Zeroizing<String>,
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub expires: Option<u64>,
}

impl std::fmt::Debug for IdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdToken")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("token", &"<redacted>")
            .finish()
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl IdToken {
    /// Decodes a compact JWT's claims. Tokens without `email` are fine (GitHub's).
    pub fn parse(raw: &str) -> Result<IdToken, Error> {
        let raw = raw.trim();
        let parts: Vec<&str> = raw.split('.').collect();
        if parts.len() != 3 {
            return Err(Error::Token("identity token is not a JWT".into()));
        }
        let claims = B64URL
            .decode(parts[1].trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .ok_or_else(|| {
                Error::Token("identity token claims are not valid base64url JSON".into())
            })?;
        let issuer = claims["iss"]
            .as_str()
            .ok_or_else(|| Error::Token("identity token has no `iss` claim".into()))?
            .to_string();
        let subject = claims["sub"].as_str().unwrap_or_default().to_string();
        let email = claims["email"].as_str().map(str::to_string);
        let expires = claims["exp"]
            .as_u64()
            .or_else(|| claims["exp"].as_f64().map(|f| f as u64));
        Ok(IdToken {
            raw: Zeroizing::new(raw.to_string()),
            issuer,
            subject,
            email,
            expires,
        })
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn check_not_expired(&self) -> Result<(), Error> {
        match self.expires {
            Some(exp) if exp <= now() => Err(Error::Token(format!(
                "identity token from {} expired {} s ago; get a fresh one",
                self.issuer,
                now() - exp
            ))),
            _ => Ok(()),
        }
    }
}

/// Finds a token: the flag (a token, or a file holding one), `SIGSTORE_ID_TOKEN`, or
/// GitHub Actions (`ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
pub async fn obtain(flag: Option<&str>, http: &reqwest::Client) -> Result<IdToken, Error> {
    let tok = if let Some(f) = flag.filter(|f| !f.is_empty()) {
        // cosign accepts the token itself or a path to a file holding it.
        let p = std::path::Path::new(f);
        if p.is_file() {
            let s = std::fs::read_to_string(p)
                .map_err(|e| Error::Token(format!("reading identity token file {f}: {e}")))?;
            IdToken::parse(&s)?
        } else {
            IdToken::parse(f)?
        }
    } else if let Some(t) = std::env::var("SIGSTORE_ID_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        IdToken::parse(&t)?
    } else if let (Ok(url), Ok(req_tok)) = (
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        github_actions(http, &url, &req_tok).await?
    } else {
        return Err(Error::Token(
            "no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, or run in GitHub Actions \
             with `permissions: id-token: write` (the interactive browser flow is not supported)"
                .into(),
        ));
    };
    tok.check_not_expired()?;
    Ok(tok)
}

async fn github_actions(
    http: &reqwest::Client,
    url: &str,
    req_tok: &str,
) -> Result<IdToken, Error> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let full = format!("{url}{sep}audience={AUDIENCE}");
    let resp = http
        .get(&full)
        .bearer_auth(req_tok)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| {
            Error::Token(format!(
                "requesting GitHub Actions OIDC token: {}",
                super::http_error(&e)
            ))
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::Token(format!(
            "requesting GitHub Actions OIDC token: HTTP {status} (does the workflow have `permissions: id-token: write`?)"
        )));
    }
    let v: Value = resp
        .json()
        .await
        .map_err(|_| Error::Token("GitHub Actions OIDC answer is not JSON".into()))?;
    let t = v["value"]
        .as_str()
        .ok_or_else(|| Error::Token("GitHub Actions OIDC answer has no `value`".into()))?;
    IdToken::parse(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!("e30.{}.c2ln", B64URL.encode(claims))
    }

    #[test]
    fn parse_without_email_and_redacted_debug() {
        let t = IdToken::parse(&jwt(r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:a/b","exp":4102444800}"#)).unwrap();
        assert_eq!(t.issuer, "https://token.actions.githubusercontent.com");
        assert!(t.email.is_none());
        assert!(t.check_not_expired().is_ok());
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("c2ln") && dbg.contains("redacted"));
    }

    #[test]
    fn expired_and_malformed() {
        let t = IdToken::parse(&jwt(r#"{"iss":"x","exp":1000}"#)).unwrap();
        let e = t.check_not_expired().unwrap_err().to_string();
        assert!(e.contains("expired") && !e.contains("c2ln"), "{e}");
        assert!(IdToken::parse("not-a-jwt").is_err());
        assert!(IdToken::parse(&jwt(r#"{"sub":"x"}"#)).is_err());
    }
}
