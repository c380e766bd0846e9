//! One call's bookkeeping: its attempts counted, its log line, and its failure in words
//! (AWS's code and message, capped; the retries that ran out; the clock hint).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sts::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::RequestId;

use super::limits::ATTEMPT_TIMEOUT;
use super::{AwsError, Service};
use rolehop_model::display_text;

/// The AWS error codes of a request signed at a time AWS does not accept.
const CLOCK_CODES: [&str; 3] = [
    "SignatureDoesNotMatch",
    "RequestExpired",
    "InvalidSignatureException",
];

/// Counts the attempts of one call and notes where they went, for its failure message.
#[derive(Debug, Clone, Default)]
pub struct Attempts(Arc<Mutex<(u32, Option<String>)>>);

impl Attempts {
    fn seen(&self) -> (u32, String) {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (
            seen.0,
            seen.1.clone().unwrap_or_else(|| "its endpoint".into()),
        )
    }
}

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "Attempts"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        // Scheme, host, port and path only: a query may carry parameters (IAM's and
        // STS's POSTs carry them in the body), and the endpoint is all a message needs.
        let endpoint = uri.split(['?', '#']).next().unwrap_or(uri);
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        seen.0 += 1;
        seen.1 = Some(endpoint.trim_end_matches('/').to_owned());
        Ok(())
    }
}

/// Logs one call of `service` (its action, how long it took, the attempts, AWS's
/// request id and the outcome; the caller's span says for what) and turns a failure
/// into an [`AwsError`]. Neither the request nor the answer is logged: they hold MFA
/// codes, tokens and credentials.
pub(super) fn logged<O, E>(
    service: &Service,
    action: &'static str,
    started: Instant,
    attempts: &Attempts,
    result: Result<O, SdkError<E, HttpResponse>>,
) -> Result<O, AwsError>
where
    O: RequestId,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let duration = started.elapsed();
    let request_id = result.request_id().unwrap_or("none").to_owned();
    let (count, endpoint) = attempts.seen();
    let result = result.map_err(|e| {
        let AwsError { code, message } = describe(service, e, count, &endpoint);
        AwsError {
            code: display_text::capped(code),
            message: display_text::capped(message),
        }
    });
    let id = service.id;
    match &result {
        Ok(_) => tracing::info!(action, ?duration, request_id, attempts = count, "{id} call"),
        Err(e) => tracing::info!(
            action,
            ?duration,
            request_id,
            attempts = count,
            error = %e,
            "{id} call failed"
        ),
    }
    result
}

/// The token of the page after the one asked with `asked`, given `token` in its answer:
/// `None` (an absent or empty token) ends the walk. A token given twice in a row is an
/// error rather than an end: a listing cut short would read as accounts or roles that
/// vanished, and one that goes on would never end.
pub(super) fn next_page(
    action: &str,
    asked: Option<&str>,
    token: Option<String>,
) -> Result<Option<String>, AwsError> {
    match token.filter(|t| !t.is_empty()) {
        Some(t) if asked == Some(t.as_str()) => Err(AwsError::invalid_response(format!(
            "{action} gave the same page token twice; the listing would never end"
        ))),
        next => Ok(next),
    }
}

/// "1 attempt", "3 attempts".
fn attempts_text(attempts: u32) -> String {
    match attempts {
        1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

/// AWS's message, with what it means when the code says the request's time was refused.
fn service_message(service: &Service, code: &str, message: String) -> String {
    if CLOCK_CODES.contains(&code) {
        format!(
            "{message} (the system clock may be wrong: {} refuses requests signed more \
             than 5 minutes off its time; check this computer's date and time)",
            service.name
        )
    } else {
        message
    }
}

/// What a refused request looks like after the retries: throttling and 5xx answers say
/// so, in words, with the number of attempts. `message` is AWS's own text, when the
/// answer had one.
fn refused_message(
    service: &Service,
    code: &str,
    status: u16,
    message: Option<String>,
    attempts: u32,
) -> String {
    let name = service.name;
    let throttled = status == 429 || code.contains("Throttl") || code == "TooManyRequestsException";
    let aws_text = message
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    if throttled {
        format!(
            "{name} throttled the request after {}{aws_text}",
            attempts_text(attempts)
        )
    } else if status >= 500 {
        let reason = hyper::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("a server error");
        format!(
            "{name} answered {status} {reason} after {}{aws_text}",
            attempts_text(attempts)
        )
    } else {
        let message =
            message.unwrap_or_else(|| format!("{name} refused the request (HTTP {status})"));
        service_message(service, code, message)
    }
}

/// The innermost cause of a transport failure ("Connection refused (os error 111)"),
/// without the SDK's debug dump of the response.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The text of the first `<name>…</name>` element in an XML error body.
fn xml_tag(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("<{name}>"))? + name.len() + 2;
    let len = body[start..].find(&format!("</{name}>"))?;
    Some(body[start..start + len].trim().to_owned()).filter(|s| !s.is_empty())
}

/// A failed call in words: AWS's code and message, or the transport's cause with the
/// attempts counted. Transport codes are the session's `FailureCode`s for "did not
/// answer" (`StsTimeout`) and "could not be reached" (`StsUnreachable`), whichever
/// service it was.
fn describe<E>(
    service: &Service,
    e: SdkError<E, HttpResponse>,
    attempts: u32,
    endpoint: &str,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let name = service.name;
    let timed_out = AwsError {
        code: "StsTimeout".into(),
        message: format!(
            "{name} did not answer within {} s after {}",
            ATTEMPT_TIMEOUT.as_secs(),
            attempts_text(attempts)
        ),
    };
    match &e {
        SdkError::ServiceError(answer) => {
            // Some servers (moto among them) wrap the error in an extra `<Errors>`
            // element the SDK's parser does not expect; recover the code and message
            // from the body rather than report "Unknown".
            let body = answer.raw().body().bytes().map(String::from_utf8_lossy);
            let tag = |name: &str| body.as_deref().and_then(|b| xml_tag(b, name));
            let status = answer.raw().status().as_u16();
            let code = e
                .code()
                .map(str::to_owned)
                .or_else(|| tag("Code"))
                .unwrap_or_else(|| "Unknown".into());
            let message = e.message().map(str::to_owned).or_else(|| tag("Message"));
            AwsError {
                message: refused_message(service, &code, status, message, attempts),
                code,
            }
        }
        SdkError::TimeoutError(_) => timed_out,
        SdkError::DispatchFailure(failure) if failure.is_timeout() => timed_out,
        SdkError::DispatchFailure(_) => AwsError {
            code: "StsUnreachable".into(),
            message: format!(
                "could not connect to {name} at {endpoint} after {} ({})",
                attempts_text(attempts),
                root_cause(&e)
            ),
        },
        // An error status whose body the SDK could not read as the service's error (an
        // empty 500 or 429 from a JSON protocol such as Organizations'): the status is
        // what the server said, so say it as for any refusal.
        SdkError::ResponseError(failed) if failed.raw().status().as_u16() >= 400 => AwsError {
            code: "Unknown".into(),
            message: refused_message(
                service,
                "Unknown",
                failed.raw().status().as_u16(),
                None,
                attempts,
            ),
        },
        SdkError::ResponseError(_) => AwsError {
            code: "InvalidResponse".into(),
            message: format!(
                "{name}'s answer was cut off or unreadable after {} ({})",
                attempts_text(attempts),
                root_cause(&e)
            ),
        },
        _ => AwsError {
            code: e.code().unwrap_or("AwsError").to_owned(),
            message: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STS: Service = Service::new("STS", "STS");

    #[test]
    fn a_refused_signature_time_says_the_clock_may_be_wrong() {
        for code in CLOCK_CODES {
            let message = refused_message(&STS, code, 403, Some("Signature expired".into()), 1);
            assert!(message.starts_with("Signature expired"), "{message}");
            assert!(
                message.contains("the system clock may be wrong: STS refuses"),
                "{message}"
            );
        }
        let other = refused_message(&STS, "AccessDenied", 403, Some("not allowed".into()), 1);
        assert_eq!(other, "not allowed");
    }

    #[test]
    fn throttling_and_server_errors_say_so_with_the_attempts() {
        let throttled = refused_message(&STS, "Throttling", 400, Some("Rate exceeded".into()), 3);
        assert_eq!(
            throttled,
            "STS throttled the request after 3 attempts (Rate exceeded)"
        );
        let unavailable = refused_message(&STS, "Unknown", 503, None, 3);
        assert_eq!(
            unavailable,
            "STS answered 503 Service Unavailable after 3 attempts"
        );
        let bare = refused_message(&STS, "Unknown", 403, None, 1);
        assert_eq!(bare, "STS refused the request (HTTP 403)");
        let iam = Service::new("IAM", "IAM");
        let throttled = refused_message(&iam, "Throttling", 400, None, 3);
        assert_eq!(throttled, "IAM throttled the request after 3 attempts");
    }

    #[test]
    fn moto_s_wrapped_error_body_still_gives_the_code_and_message() {
        let body = "<ErrorResponse><Errors><Error><Code>AccessDenied</Code>\
                    <Message> not allowed </Message></Error></Errors></ErrorResponse>";
        assert_eq!(xml_tag(body, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(xml_tag(body, "Message").as_deref(), Some("not allowed"));
        assert_eq!(xml_tag(body, "RequestId"), None);
    }

    #[test]
    fn paging_ends_without_a_token_and_refuses_a_repeated_one() {
        assert_eq!(
            next_page("ListAccounts", None, Some("a".into())),
            Ok(Some("a".into()))
        );
        assert_eq!(
            next_page("ListAccounts", Some("a"), Some("b".into())),
            Ok(Some("b".into()))
        );
        assert_eq!(
            next_page("ListAccounts", Some("b"), Some(String::new())),
            Ok(None)
        );
        assert_eq!(next_page("ListAccounts", Some("b"), None), Ok(None));
        let err = next_page("ListAccounts", Some("a"), Some("a".into())).unwrap_err();
        assert_eq!(err.code, "InvalidResponse");
        assert!(
            err.message
                .starts_with("ListAccounts gave the same page token twice")
        );
    }
}
