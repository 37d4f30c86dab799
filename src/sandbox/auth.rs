//! Users and their bearer tokens. Each seeded user gets a random token at first open, kept in
//! `DIR/users/<user>.token` (the default user's also in `DIR/token`), mode 0600. The server keeps
//! only SHA-256 digests of the tokens in memory for the lookup.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::errors::ApiError;
use super::lookup::AppState;
use super::state::UserEntry;
use crate::fsio;
use crate::sandbox::{Error, Result};

pub fn token_path(dir: &Path) -> PathBuf {
    dir.join("token")
}

pub fn user_token_path(dir: &Path, user: &str) -> PathBuf {
    dir.join("users").join(format!("{user}.token"))
}

/// Reads a token file written by the sandbox (64 hex characters).
pub fn read_token(path: &Path) -> Result<String> {
    // A token is 64 characters and a newline; a larger file is not one of ours.
    let text = fsio::read_text_bounded(path, 4096)
        .map_err(|e| Error::io("reading token file", path, e))?;
    let token = text.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::usage(format!(
            "{}: not a sandbox token (expected 64 hex characters); delete the file and restart \
             the sandbox to get a new one",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

/// 32 random bytes as lowercase hex: user tokens and transfer URL tokens.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Reads every user's token, creating the missing ones, and returns digest -> user name.
pub(crate) fn load_tokens(dir: &Path, users: &[UserEntry]) -> Result<HashMap<String, String>> {
    let users_dir = dir.join("users");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&users_dir)
        .map_err(|e| Error::io("creating", &users_dir, e))?;
    let mut map = HashMap::new();
    for user in users {
        let path = user_token_path(dir, &user.name);
        let token = if path.exists() {
            read_token(&path)?
        } else {
            let token = random_token();
            fsio::write_atomic(&path, format!("{token}\n").as_bytes())
                .map_err(|e| Error::io("writing", &path, e))?;
            token
        };
        if user.default {
            let default_path = token_path(dir);
            let current = read_token(&default_path).ok();
            if current.as_deref() != Some(token.as_str()) {
                fsio::write_atomic(&default_path, format!("{token}\n").as_bytes())
                    .map_err(|e| Error::io("writing", &default_path, e))?;
            }
        }
        map.insert(digest(&token), user.name.clone());
    }
    Ok(map)
}

/// The authenticated user of an API request.
pub(crate) struct AuthUser(pub String);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthenticated(
                "missing Authorization header; send `Authorization: Bearer <token>` with the \
                 token from the sandbox directory's `token` file",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(ApiError::unauthenticated(
                "the Authorization header is not `Bearer <token>`",
            ));
        };
        match state.sandbox.user_for_token_digest(&digest(token)) {
            Some(user) => Ok(AuthUser(user)),
            None => Err(ApiError::unauthenticated(
                "unknown bearer token; use the token from the sandbox directory's `token` file \
                 (a new sandbox directory has a new token)",
            )),
        }
    }
}
