/**
 * The two AWS STS calls the `aws_sigv4` profile makes, as the Query API's form POSTs:
 * `GetCallerIdentity` (the connection test: who the credentials belong to) and `AssumeRole`
 * (temporary credentials for a configured role). Answers are STS's XML documents; the few
 * elements read are fixed by the API reference.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Redacted from "effect/Redacted"
import type { AwsConfiguration } from "../HttpApiDescriptor.js"
import type { AwsCredentials } from "./awsSigV4.js"

/** The STS API version these calls are written against. */
const version = "2011-06-15"

/** The STS endpoint of a configuration: `sts_endpoint`, else the regional endpoint. */
export const endpointOf = (aws: AwsConfiguration): URL =>
  new URL(aws.sts_endpoint ?? `https://sts.${aws.region}.amazonaws.com`)

/** The unsigned `GetCallerIdentity` request. */
export const getCallerIdentity = (endpoint: URL): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.post(endpoint).pipe(
    HttpClientRequest.bodyUrlParams({ Action: "GetCallerIdentity", Version: version })
  )

/** The unsigned `AssumeRole` request for the configuration's role. */
export const assumeRole = (
  endpoint: URL,
  aws: AwsConfiguration & { readonly role_arn: string }
): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.post(endpoint).pipe(
    HttpClientRequest.bodyUrlParams({
      Action: "AssumeRole",
      Version: version,
      RoleArn: aws.role_arn,
      RoleSessionName: aws.role_session_name,
      ...(aws.external_id === undefined ? {} : { ExternalId: aws.external_id })
    })
  )

const decodeEntities = (text: string) =>
  text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&")

/** The text of the first `<name>` element of an STS document. */
export const element = (xml: string, name: string): string | undefined => {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)
  return match === null ? undefined : decodeEntities(match[1] as string).trim()
}

/** Who `GetCallerIdentity` says the credentials belong to. */
export interface CallerIdentity {
  readonly account: string
  readonly arn: string
}

/** The identity in a `GetCallerIdentityResponse`, or undefined when it is not one. */
export const parseCallerIdentity = (xml: string): CallerIdentity | undefined => {
  const account = element(xml, "Account")
  const arn = element(xml, "Arn")
  return account === undefined || arn === undefined ? undefined : { account, arn }
}

/** Temporary credentials and when they expire. */
export interface TemporaryCredentials {
  readonly credentials: AwsCredentials
  readonly expiresAt: number
}

/** The credentials in an `AssumeRoleResponse`, or undefined when it is not one. */
export const parseAssumeRole = (xml: string): TemporaryCredentials | undefined => {
  const accessKeyId = element(xml, "AccessKeyId")
  const secretAccessKey = element(xml, "SecretAccessKey")
  const sessionToken = element(xml, "SessionToken")
  const expiration = element(xml, "Expiration")
  const expiresAt = expiration === undefined ? Number.NaN : Date.parse(expiration)
  if (accessKeyId === undefined || secretAccessKey === undefined || sessionToken === undefined) return undefined
  if (Number.isNaN(expiresAt)) return undefined
  return {
    credentials: {
      accessKeyId,
      secretAccessKey: Redacted.make(secretAccessKey),
      sessionToken: Redacted.make(sessionToken)
    },
    expiresAt
  }
}

/** The `<Code>` of an AWS error document (`SignatureDoesNotMatch`, `ExpiredToken`…). */
export const errorCode = (xml: string): string | undefined => element(xml, "Code")
