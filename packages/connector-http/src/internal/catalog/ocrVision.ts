/** OCR and vision services. */
import type { Entry } from "../../Catalog.js"
import { apiKeyField, baseUrlField, checked, googleOAuth2 } from "./common.js"

const awsFields = {
  access_key_id: {
    title: "Access key ID",
    description: "The IAM access key id.",
    example: "AKIA…",
    pattern: "^(AKIA|ASIA)[A-Z0-9]{16}$",
    docs: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
    secret: false
  },
  secret_access_key: {
    title: "Secret access key",
    description: "The IAM secret access key.",
    docs: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
    secret: true
  },
  session_token: {
    title: "Session token",
    description: "The session token of temporary credentials (optional).",
    docs: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html",
    secret: true
  }
}

export const ocrVision: ReadonlyArray<Entry> = [
  {
    id: "be99f961-bd51-44e4-b6d4-021f283b0183",
    key: "aws-textract",
    name: "AWS Textract",
    category: "ocr_vision",
    description: "Text and form extraction from documents with Amazon Textract (Signature V4, JSON 1.1 protocol).",
    auth: ["aws_sigv4"],
    baseUrl: "https://textract.us-east-1.amazonaws.com",
    aws: { region: "us-east-1", service: "textract" },
    testEndpoint: { method: "POST", path: "/", expectStatus: 200 },
    identity: {
      method: "POST",
      endpoint: "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
      accountId: "GetCallerIdentityResponse.GetCallerIdentityResult.Account"
    },
    fields: awsFields,
    checked: checked(
      "https://docs.aws.amazon.com/general/latest/gr/textract.html",
      "the regional endpoint textract.us-east-1.amazonaws.com (HTTPS) checked; the JSON 1.1 protocol with target prefix Textract, Signature V4 and every operation a POST to / (the Textract model in AWS's boto/botocore repository) checked; STS GetCallerIdentity answering the caller's Account and needing no permission (AWS STS API reference) checked, the XML path GetCallerIdentityResponse.GetCallerIdentityResult.Account only from an STS-compatible third-party reference; a bare POST / names no operation (X-Amz-Target is needed), so the driver's connection test is the STS call and a 200 to POST / is NOT expected or checked"
    )
  },
  {
    id: "509a24c9-e92f-4a72-8aad-044e15d8b446",
    key: "google-cloud-vision",
    name: "Google Cloud Vision",
    category: "ocr_vision",
    description: "Image labelling and OCR with the Cloud Vision API.",
    auth: ["api_key", "oauth2_authorization_code"],
    baseUrl: "https://vision.googleapis.com/v1",
    apiKey: { in: "query", name: "key" },
    testEndpoint: { method: "POST", path: "/images:annotate", expectStatus: 400 },
    oauth2: googleOAuth2(["https://www.googleapis.com/auth/cloud-vision"]),
    fields: {
      api_key: apiKeyField(
        "API key",
        "https://cloud.google.com/docs/authentication/api-keys",
        "AIza…",
        "^AIza[0-9A-Za-z_-]{35}$"
      )
    },
    checked: checked(
      "https://cloud.google.com/vision/docs/request",
      "base URL vision.googleapis.com/v1, POST /images:annotate and authentication by an API key or an OAuth token checked; the `key` query parameter (required unless an OAuth token is sent) and the cloud-vision scope accepted by images:annotate checked in Google's Vision discovery document (googleapis/google-api-go-client, vision-api.json); the 400 answer to an empty annotate NOT checked"
    )
  },
  {
    id: "44e5858b-034f-4ca7-ad2f-2b21b4b32e52",
    key: "azure-ai-vision",
    name: "Azure AI Vision",
    category: "ocr_vision",
    description: "Image analysis and OCR (Read) with an Azure AI Vision resource.",
    auth: ["api_key"],
    apiKey: { in: "header", name: "Ocp-Apim-Subscription-Key" },
    testEndpoint: { method: "GET", path: "/vision/v3.2/models", expectStatus: 200 },
    fields: {
      base_url: baseUrlField(
        "The resource's endpoint from the Azure portal.",
        "https://my-vision.cognitiveservices.azure.com",
        "^https://[a-z0-9-]+\\.cognitiveservices\\.azure\\.com/?$"
      ),
      api_key: apiKeyField("Resource key", "https://learn.microsoft.com/en-us/azure/ai-services/computer-vision/")
    },
    rateLimitHeaders: { retryAfter: "Retry-After" },
    checked: checked(
      "https://learn.microsoft.com/en-us/rest/api/computervision/list-models/list-models",
      "GET {endpoint}/vision/v3.2/models (List Domain Specific Models) answering 200 with the Ocp-Apim-Subscription-Key request header (Microsoft's Computer Vision v3.2 REST reference) checked, replacing an undocumented /computervision/models?api-version=2024-02-01 test path; the resource endpoint shape https://<resource-name>.cognitiveservices.azure.com and key authentication (Microsoft's client library reference) checked; that Image Analysis 4.0 is deprecated and retires on 25 September 2028 only from a localized copy of Microsoft's quickstart; Retry-After on 429 NOT checked"
    )
  },
  {
    id: "393f8007-7fa8-421c-8472-dede5fe77f03",
    key: "azure-document-intelligence",
    name: "Azure AI Document Intelligence",
    category: "ocr_vision",
    description: "Form and document extraction with an Azure AI Document Intelligence resource.",
    auth: ["api_key"],
    apiKey: { in: "header", name: "Ocp-Apim-Subscription-Key" },
    testEndpoint: {
      method: "GET",
      path: "/documentintelligence/documentModels?api-version=2024-11-30",
      expectStatus: 200
    },
    fields: {
      base_url: baseUrlField(
        "The resource's endpoint from the Azure portal.",
        "https://my-docs.cognitiveservices.azure.com"
      ),
      api_key: apiKeyField("Resource key", "https://learn.microsoft.com/en-us/azure/ai-services/document-intelligence/")
    },
    checked: checked(
      "https://learn.microsoft.com/en-us/rest/api/aiservices/document-models/get-model",
      "the Ocp-Apim-Subscription-Key request header, the endpoint shape https://<resource>.cognitiveservices.azure.com with the /documentintelligence/documentModels path and the GA api-version 2024-11-30 (Microsoft's REST reference, Get Model) checked; GET /documentintelligence/documentModels (List Models, 200 with a paged list) checked only at api-version 2024-02-29-preview in the same reference; rate-limit headers NOT checked"
    )
  },
  {
    id: "2721ed51-5e35-43d9-941f-1475ec7548c1",
    key: "ocr-space",
    name: "OCR.space",
    category: "ocr_vision",
    description: "OCR of images and PDFs with the OCR.space API.",
    auth: ["api_key"],
    baseUrl: "https://api.ocr.space",
    apiKey: { in: "header", name: "apikey" },
    testEndpoint: { method: "POST", path: "/parse/image", expectStatus: 200 },
    fields: { api_key: apiKeyField("API key", "https://ocr.space/ocrapi") },
    checked: checked(
      "https://ocr.space/ocrapi",
      "the OCR.space API and its free-tier key and per-IP limits (ocr.space/ocrapi) checked; POST https://api.ocr.space/parse/image with the key as an `apikey` request header only from third-party clients (n8n's OCR.space credential and others; older clients send it as a form field instead); a 200 answer to an empty POST NOT checked"
    )
  }
]
