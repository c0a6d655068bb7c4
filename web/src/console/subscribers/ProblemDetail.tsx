import { ApiError } from "../../api/client";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";

/** The API's problem; for `invalid` also its detail (which field, why), which the generic wording hides. */
export function ProblemDetail({ error }: { error: unknown }) {
  return (
    <>
      <ErrorNotice error={error} />
      {error instanceof ApiError && error.code === "invalid" && error.detail && (
        <p className="field__error" data-testid="problem-detail">
          {error.detail}
        </p>
      )}
    </>
  );
}
