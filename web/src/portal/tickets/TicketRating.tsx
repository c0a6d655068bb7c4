import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import "./TicketRating.css";

const SCORES = [1, 2, 3, 4, 5] as const;
const COMMENT_MAX = 2000;

const ratingKey = (id: string) => ["me", "tickets", id, "rating"] as const;

/** The ticket's current resolution: may it be rated, and how it was. Refetched on status change. */
function useMyRating(id: string, status: string) {
  return useQuery({
    queryKey: [...ratingKey(id), status],
    queryFn: () => data(api.GET("/me/tickets/{id}/rating", { params: { path: { id } } })),
  });
}

function useRate(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { score: number; comment: string | null }) =>
      data(api.PUT("/me/tickets/{id}/rating", { params: { path: { id } }, body })),
    onSuccess: () => client.invalidateQueries({ queryKey: ratingKey(id) }),
  });
}

/** CSAT 1–5 plus a comment, offered once the ticket is resolved; the rating may be changed. */
export function TicketRating({ ticketId, status }: { ticketId: string; status: string }) {
  const { t } = useTranslation();
  const rating = useMyRating(ticketId, status);
  const rate = useRate(ticketId);
  const [editing, setEditing] = useState(false);
  const [score, setScore] = useState<number | null>(null);
  const [comment, setComment] = useState("");
  const commentId = useId();

  const current = rating.data?.rating;
  if (!rating.data?.can_rate && current === undefined) return null;

  if (current && !editing) {
    return (
      <section className="notice notice--info csat" data-testid="csat-given" aria-live="polite">
        <p>
          {t("insights.rating.thanks")}{" "}
          <span className="csat__stars" aria-label={t("insights.rating.scoreLabel", { score: current.score })}>
            {"★".repeat(current.score)}
            {"☆".repeat(5 - current.score)}
          </span>
        </p>
        {current.comment && <p className="csat__comment">{current.comment}</p>}
        {rating.data?.can_rate && (
          <button
            type="button"
            className="button"
            onClick={() => {
              setScore(current.score);
              setComment(current.comment ?? "");
              setEditing(true);
            }}
            data-testid="csat-change"
          >
            {t("insights.rating.change")}
          </button>
        )}
      </section>
    );
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (score === null) return;
    rate.mutate(
      { score, comment: comment.trim() === "" ? null : comment },
      {
        onSuccess: () => {
          setEditing(false);
        },
      },
    );
  }

  return (
    <form className="form card csat" onSubmit={submit} data-testid="csat-form">
      <fieldset className="csat__scores">
        <legend>{t("insights.rating.question")}</legend>
        {SCORES.map((s) => (
          <label key={s} className={score === s ? "csat__score csat__score--chosen" : "csat__score"}>
            <input
              type="radio"
              name="csat-score"
              value={s}
              checked={score === s}
              onChange={() => {
                setScore(s);
              }}
              data-testid={`csat-score-${s}`}
            />
            <span aria-hidden="true">{s}</span>
            <span className="visually-hidden">{t(`insights.rating.scores.s${s}`)}</span>
          </label>
        ))}
      </fieldset>
      <p className="field__hint">{t("insights.rating.scale")}</p>
      <label htmlFor={commentId} className="field__label">
        {t("insights.rating.comment")}
      </label>
      <textarea
        id={commentId}
        rows={3}
        maxLength={COMMENT_MAX}
        value={comment}
        onChange={(e) => {
          setComment(e.target.value);
        }}
        data-testid="csat-comment"
      />
      {rate.error != null && <ErrorNotice error={rate.error} />}
      <div className="form__actions">
        <button
          type="submit"
          className="button button--primary"
          disabled={score === null || rate.isPending}
          data-testid="csat-submit"
        >
          {t("insights.rating.submit")}
        </button>
      </div>
    </form>
  );
}
