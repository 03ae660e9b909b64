import { z } from "zod";

// One rule for every URL a client hands the service to pass upstream (/chat images, /v1 image_url and file
// parts): https or http, or inline data. Anything else (file:, ftp:, javascript:, gopher:, a bare path)
// is refused at the edge, so it never reaches a provider that might dereference it.

const webUrl = /^https?:\/\/\S+$/i;
const imageDataUrl = /^data:image\/(png|jpe?g|webp|gif|heic|heif);base64,[A-Za-z0-9+/=\s]+$/i;
const fileDataUrl = /^data:[\w.+-]+\/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+$/i;

export const imageUrlSchema = z
  .string({ error: "must be a string: an https URL or a data:image/...;base64 URL" })
  .refine(
    (value) => imageDataUrl.test(value) || webUrl.test(value),
    "must be an http(s) URL or a data:image/(png|jpeg|webp|gif);base64 URL",
  );

export const fileDataSchema = z
  .string({ error: "must be a string: a data:<type>;base64 URL or an https URL" })
  .refine(
    (value) => fileDataUrl.test(value) || webUrl.test(value),
    "must be a data:<type>;base64 URL (such as data:application/pdf;base64,...) or an http(s) URL",
  );
