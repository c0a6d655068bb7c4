// The subscriber forms' state, as typed; the API checks and normalises it.

/** What the subscriber forms edit, as typed (the API checks and normalises it). */
export interface SubscriberDraft {
  account_number: string;
  full_name: string;
  email: string;
  phone: string;
  address: string;
  tariff: string;
}

export const EMPTY_DRAFT: SubscriberDraft = {
  account_number: "",
  full_name: "",
  email: "",
  phone: "",
  address: "",
  tariff: "",
};

export const orNull = (value: string): string | null => (value.trim() === "" ? null : value.trim());
