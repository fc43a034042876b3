//! The process entry: connect, ping, run the handler, `Return`, exit.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

use futures_util::FutureExt as _;

use tonic::transport::Channel;

use crate::client::Client;
use crate::error::{BuildError, ClientError};
use crate::opts::{BuildEnv, OptsError};
use crate::result::FrontendResult;
use crate::transport::connect_stdio;

/// How a frontend run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The handler's result was returned to BuildKit.
    Returned,
    /// The handler's error was returned to BuildKit (it fails the build with
    /// the message).
    ReturnedError(BuildError),
    /// `Return` itself failed; BuildKit will report an incomplete build.
    ReturnFailed(ClientError),
}

impl Outcome {
    /// Exit 0 whenever BuildKit got our answer: a non-zero exit after
    /// `Return` would override it.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Outcome::Returned | Outcome::ReturnedError(_) => ExitCode::SUCCESS,
            Outcome::ReturnFailed(_) => ExitCode::FAILURE,
        }
    }
}

/// Runs a frontend: reads the environment, connects to BuildKit over
/// stdin/stdout, pings, calls `handler`, and returns its result or error to
/// BuildKit. Diagnostics go to stderr (BuildKit's log); stdout carries gRPC
/// only. Use as `fn main() -> ExitCode { buildkit_frontend::run(build) }`.
pub fn run<F, Fut>(handler: F) -> ExitCode
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<FrontendResult, BuildError>>,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("frontend: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let channel = match connect_stdio().await {
            Ok(channel) => channel,
            Err(err) => {
                eprintln!("frontend: {err}");
                return ExitCode::FAILURE;
            }
        };
        let outcome = serve(channel, BuildEnv::from_process_env(), handler).await;
        report(&outcome);
        outcome.exit_code()
    })
}

/// [`run`] over an already connected channel (tests, other transports).
/// An environment error is returned to BuildKit like a handler error.
pub async fn serve<F, Fut>(
    channel: Channel,
    env: Result<BuildEnv, OptsError>,
    handler: F,
) -> Outcome
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<FrontendResult, BuildError>>,
{
    let (env, env_error) = match env {
        Ok(env) => (env, None),
        Err(err) => (BuildEnv::default(), Some(BuildError::from(err))),
    };
    let mut client = Client::new(channel, env);
    let result = match env_error {
        Some(err) => Err(err),
        None => match client.ping().await {
            // A panicking handler is a bug, but BuildKit still gets an answer it can show.
            Ok(_) => match AssertUnwindSafe(handler(client.clone()))
                .catch_unwind()
                .await
            {
                Ok(result) => result,
                Err(payload) => Err(BuildError::new(format!(
                    "internal error in the frontend (a bug, please report it): {}",
                    panic_message(payload.as_ref())
                ))),
            },
            Err(err) => Err(BuildError::from(err)),
        },
    };
    match result {
        Ok(result) => match client.return_result(result).await {
            Ok(()) => Outcome::Returned,
            Err(err) => Outcome::ReturnFailed(err),
        },
        Err(error) => match client.return_error(&error).await {
            Ok(()) => Outcome::ReturnedError(error),
            Err(err) => Outcome::ReturnFailed(err),
        },
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

fn report(outcome: &Outcome) {
    match outcome {
        Outcome::Returned => {}
        Outcome::ReturnedError(err) => eprintln!("frontend: build failed: {err}"),
        Outcome::ReturnFailed(err) => eprintln!("frontend: could not return to BuildKit: {err}"),
    }
}
