"""Routes and views of the portfolios API's documents endpoints (see the tax issue, #15):
monthly statements and annual tax reports, listed, downloaded as PDF or CSV, and generated on
demand; advisors read those of the clients they work on."""

from typing import Any

from django.http import HttpResponse
from django.urls import URLPattern, path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor import selectors as advisor_selectors
from config.api import ERRORS, AuthedRequest, InputSerializer, IsAdvisor

from ..documents import client_for_staff, document_filename, document_get, document_list
from ..models import Document
from ..services.documents import document_generate

# --- Serializers ----------------------------------------------------------------------------


class DocumentOutputSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField()
    csv_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = (
            "id",
            "kind",
            "title",
            "account",
            "period_start",
            "period_end",
            "created_at",
            "pdf_url",
            "csv_url",
        )

    def _url(self, document: Document, fmt: str) -> str:
        if self.context.get("staff"):
            return reverse(
                f"advisor-client-document-{fmt}",
                kwargs={"client_id": document.client_id, "document_id": document.pk},
            )
        return reverse(f"document-{fmt}", kwargs={"document_id": document.pk})

    def get_pdf_url(self, document: Document) -> str:
        return self._url(document, "pdf")

    def get_csv_url(self, document: Document) -> str:
        return self._url(document, "csv")


class DocumentListQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Document.Kind.choices, required=False)


class DocumentGenerateInputSerializer(InputSerializer):
    kind = serializers.ChoiceField(choices=Document.Kind.choices)
    year = serializers.IntegerField(min_value=1900, max_value=9999)
    month = serializers.IntegerField(min_value=1, max_value=12, required=False)
    account = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == Document.Kind.STATEMENT:
            missing = {
                f: ["Required for a statement."] for f in ("account", "month") if f not in attrs
            }
            if missing:
                raise serializers.ValidationError(missing)
        else:
            extra = {f: ["Not used for a tax report."] for f in ("account", "month") if f in attrs}
            if extra:
                raise serializers.ValidationError(extra)
        return attrs


# --- Downloads ------------------------------------------------------------------------------


class _FileRenderer(BaseRenderer):
    """Lets a download be asked for by its own media type (Accept: application/pdf); the file
    itself is sent as is. An error on the way is rendered as the API's JSON error."""

    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> Any:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data, "application/json", renderer_context)


class PdfRenderer(_FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class CsvRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"


def _download(document: Document, fmt: str) -> HttpResponse:
    if fmt == "pdf":
        response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    else:
        response = HttpResponse(document.csv, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{document_filename(document, fmt)}"'
    response["Cache-Control"] = "private, no-store"
    return response


KIND = OpenApiParameter(
    "kind", str, enum=Document.Kind.values, description="only statements, or only tax reports"
)


def _file_schema(media_type: str, what: str) -> Any:
    return extend_schema(
        tags=["documents"],
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description=what),
            **ERRORS,
        },
    )


# --- Client views ---------------------------------------------------------------------------


class DocumentListApi(APIView):
    @extend_schema(
        tags=["documents"],
        parameters=[KIND],
        responses={200: DocumentOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: AuthedRequest) -> Response:
        """My statements and tax reports, newest period first (`?kind=statement|tax_report`)."""
        client = advisor_selectors.client_of_user(request.user)
        query = DocumentListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        documents = document_list(client=client, kind=query.validated_data.get("kind"))
        return Response(DocumentOutputSerializer(documents, many=True).data)

    @extend_schema(
        tags=["documents"],
        request=DocumentGenerateInputSerializer,
        responses={201: DocumentOutputSerializer, **ERRORS},
    )
    def post(self, request: AuthedRequest) -> Response:
        """Generate a document now: `{"kind": "statement", "account": 12, "year": 2023,
        "month": 5}` for a month that is over, or `{"kind": "tax_report", "year": 2022}` for a
        year that is over. Generating again replaces the files."""
        client = advisor_selectors.client_of_user(request.user)
        payload = DocumentGenerateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        document = document_generate(
            client=client,
            kind=data["kind"],
            year=data["year"],
            month=data.get("month"),
            account_id=data.get("account"),
        )
        return Response(DocumentOutputSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentPdfApi(APIView):
    renderer_classes = (JSONRenderer, PdfRenderer)

    @_file_schema("application/pdf", "The document as a PDF (an attachment).")
    def get(self, request: AuthedRequest, document_id: int) -> HttpResponse:
        """Download one of my documents as a PDF."""
        client = advisor_selectors.client_of_user(request.user)
        return _download(document_get(client=client, document_id=document_id), "pdf")


class DocumentCsvApi(APIView):
    renderer_classes = (JSONRenderer, CsvRenderer)

    @_file_schema("text/csv", "The document as CSV: one section per table (an attachment).")
    def get(self, request: AuthedRequest, document_id: int) -> HttpResponse:
        """Download one of my documents as CSV."""
        client = advisor_selectors.client_of_user(request.user)
        return _download(document_get(client=client, document_id=document_id), "csv")


# --- Advisor views --------------------------------------------------------------------------


class AdvisorClientDocumentListApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        tags=["advisor"],
        parameters=[KIND],
        responses={200: DocumentOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: AuthedRequest, client_id: int) -> Response:
        """A client's statements and tax reports (clients in the advisor's reach)."""
        client = client_for_staff(user=request.user, client_id=client_id)
        query = DocumentListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        documents = document_list(client=client, kind=query.validated_data.get("kind"))
        return Response(
            DocumentOutputSerializer(documents, many=True, context={"staff": True}).data
        )


class AdvisorClientDocumentPdfApi(APIView):
    permission_classes = (IsAdvisor,)
    renderer_classes = (JSONRenderer, PdfRenderer)

    @_file_schema("application/pdf", "The document as a PDF (an attachment).")
    def get(self, request: AuthedRequest, client_id: int, document_id: int) -> HttpResponse:
        """Download a client's document as a PDF."""
        client = client_for_staff(user=request.user, client_id=client_id)
        return _download(document_get(client=client, document_id=document_id), "pdf")


class AdvisorClientDocumentCsvApi(APIView):
    permission_classes = (IsAdvisor,)
    renderer_classes = (JSONRenderer, CsvRenderer)

    @_file_schema("text/csv", "The document as CSV: one section per table (an attachment).")
    def get(self, request: AuthedRequest, client_id: int, document_id: int) -> HttpResponse:
        """Download a client's document as CSV."""
        client = client_for_staff(user=request.user, client_id=client_id)
        return _download(document_get(client=client, document_id=document_id), "csv")


urlpatterns: list[URLPattern] = [
    path("documents/", DocumentListApi.as_view(), name="documents"),
    path("documents/<int:document_id>/pdf/", DocumentPdfApi.as_view(), name="document-pdf"),
    path("documents/<int:document_id>/csv/", DocumentCsvApi.as_view(), name="document-csv"),
    path(
        "advisor/clients/<int:client_id>/documents/",
        AdvisorClientDocumentListApi.as_view(),
        name="advisor-client-documents",
    ),
    path(
        "advisor/clients/<int:client_id>/documents/<int:document_id>/pdf/",
        AdvisorClientDocumentPdfApi.as_view(),
        name="advisor-client-document-pdf",
    ),
    path(
        "advisor/clients/<int:client_id>/documents/<int:document_id>/csv/",
        AdvisorClientDocumentCsvApi.as_view(),
        name="advisor-client-document-csv",
    ),
]
