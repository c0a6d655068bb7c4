import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, data } from "../../api/client";

const lettersKey = ["console", "letter-templates"] as const;

export type LetterTemplate = NonNullable<ReturnType<typeof useLetterTemplates>["data"]>["items"][number];
export type LetterKind = LetterTemplate["kind"];
export type LetterLanguage = LetterTemplate["language"];

/** Every ticket letter to subscribers, in both languages. */
export function useLetterTemplates() {
  return useQuery({
    queryKey: lettersKey,
    queryFn: () => data(api.GET("/console/letter-templates")),
  });
}

export interface LetterText {
  subject: string;
  body: string;
}

export function useSaveLetterTemplate(kind: LetterKind, language: LetterLanguage) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: LetterText) =>
      data(api.PUT("/console/letter-templates/{kind}/{language}", { params: { path: { kind, language } }, body })),
    onSettled: () => client.invalidateQueries({ queryKey: lettersKey }),
  });
}

/** Back to the built-in letter. */
export function useResetLetterTemplate(kind: LetterKind, language: LetterLanguage) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () =>
      data(api.DELETE("/console/letter-templates/{kind}/{language}", { params: { path: { kind, language } } })),
    onSettled: () => client.invalidateQueries({ queryKey: lettersKey }),
  });
}

/** Unsaved text rendered as the subscriber would get it, with sample values. */
export function usePreviewLetter() {
  return useMutation({
    mutationFn: (body: LetterText & { kind: LetterKind; language: LetterLanguage }) =>
      data(api.POST("/console/letter-templates/preview", { body })),
  });
}
