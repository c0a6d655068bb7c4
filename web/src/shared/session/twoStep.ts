import { useCallback, useState } from "react";
import type { LoginResult, SecondFactorChallenge } from "../../api/types";
import { isSecondFactorChallenge, useSignIn } from "./session";

/**
 * A sign-in that may take two steps: the password, then (for an account with two-factor
 * authentication) a code. `challenge` is set between the two; `restart` goes back to the
 * password, saying why when the challenge `expired`.
 */
export function useTwoStepSignIn<Credentials>(login: (credentials: Credentials) => Promise<LoginResult>) {
  const signIn = useSignIn(login);
  const { mutate, reset } = signIn;
  const [challenge, setChallenge] = useState<SecondFactorChallenge | null>(null);
  const [expired, setExpired] = useState(false);

  const submit = useCallback(
    (credentials: Credentials) => {
      setExpired(false);
      mutate(credentials, {
        onSuccess: (result) => {
          if (isSecondFactorChallenge(result)) setChallenge(result);
        },
      });
    },
    [mutate],
  );
  const restart = useCallback(
    (wasExpired: boolean) => {
      setChallenge(null);
      setExpired(wasExpired);
      reset();
    },
    [reset],
  );
  return { signIn, submit, challenge, expired, restart };
}
