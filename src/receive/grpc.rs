//! OTLP/gRPC: the trace and logs services' Export methods. A request is decoded by
//! tonic (gzip accepted, at most `max_body` once inflated), encoded again and checked and
//! spooled as an OTLP/HTTP protobuf body is, so both protocols keep the same bytes.

use super::{Receiver, Refusal};
use axum::Router;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use std::sync::Arc;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

pub fn router(app: Arc<Receiver>) -> Router<Arc<Receiver>> {
    let max = usize::try_from(app.limits.max_body).unwrap_or(usize::MAX);
    let traces = TraceServiceServer::new(Grpc(app.clone()))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    let logs = LogsServiceServer::new(Grpc(app))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max);
    Router::new()
        .route_service(
            "/opentelemetry.proto.collector.trace.v1.TraceService/{*method}",
            traces,
        )
        .route_service(
            "/opentelemetry.proto.collector.logs.v1.LogsService/{*method}",
            logs,
        )
}

struct Grpc(Arc<Receiver>);

impl Grpc {
    async fn take<T>(&self, req: Request<T>, what: &'static str) -> Result<(), Status>
    where
        T: Message + Send + 'static,
    {
        let app = &self.0;
        let _in_flight = app.begin();
        let bearer = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_string());
        let result = match app.check_token(bearer.as_deref()) {
            Ok(()) => {
                let body = req.into_inner().encode_to_vec();
                app.decode_slot(move |app| app.accept_otlp(&body, what))
                    .await
                    .and_then(|r| r)
            }
            Err(r) => Err(r),
        };
        result.map_err(|r| status(app.refused(r)))
    }
}

fn status(r: Refusal) -> Status {
    let m = r.message();
    match r {
        Refusal::Invalid(_) => Status::invalid_argument(m),
        Refusal::TooLarge(_) => Status::resource_exhausted(m),
        Refusal::Unsupported(_) => Status::unimplemented(m),
        Refusal::Unauthorized => Status::unauthenticated(m),
        Refusal::Unavailable(_) => Status::unavailable(m),
    }
}

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        req: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.take(req, "received traces").await?;
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Grpc {
    async fn export(
        &self,
        req: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.take(req, "received logs").await?;
        Ok(Response::new(ExportLogsServiceResponse::default()))
    }
}
