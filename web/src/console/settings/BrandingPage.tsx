import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { api, data } from "../../api/client";
import type { BrandingSettings } from "../../api/types";
import { siteQuery, usePageTitle } from "../../shared/site/site";
import { ErrorNotice } from "../../shared/ui/ErrorNotice";
import { Field } from "../../shared/ui/Field";
import { Loading } from "../../shared/ui/Loading";
import "./branding.css";

const DEFAULT_PRIMARY = "#1f5fbf";
const DEFAULT_ACCENT = "#f59e0b";
const LOGO_MAX_BYTES = 100 * 1024;

/** The file's bytes as base64, for the JSON body. */
async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * Branding: the ISP's name, colours, logo and support contacts, with a live preview of the
 * subscriber portal's header. Saved for every node at once; audited.
 */
export function BrandingPage() {
  const { t } = useTranslation();
  usePageTitle(t("settings.branding.title"));
  const current = useQuery({
    queryKey: ["console", "settings", "branding"],
    queryFn: () => data(api.GET("/console/settings/branding")),
  });
  if (current.isPending) return <Loading />;
  if (current.isError) return <ErrorNotice error={current.error} onRetry={() => void current.refetch()} />;
  return <BrandingForm current={current.data} />;
}

function BrandingForm({ current }: { current: BrandingSettings }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [name, setName] = useState(current.display_name);
  const [primary, setPrimary] = useState(current.primary_color ?? DEFAULT_PRIMARY);
  const [accent, setAccent] = useState(current.accent_color ?? DEFAULT_ACCENT);
  const [email, setEmail] = useState(current.support_email ?? "");
  const [phone, setPhone] = useState(current.support_phone ?? "");
  const [logo, setLogo] = useState<{ file: File; url: string } | null>(null);
  const [removeLogo, setRemoveLogo] = useState(false);
  const [logoError, setLogoError] = useState<string | null>(null);

  useEffect(
    () => () => {
      if (logo) URL.revokeObjectURL(logo.url);
    },
    [logo],
  );

  const save = useMutation({
    mutationFn: async () =>
      data(
        api.PUT("/console/settings/branding", {
          body: {
            display_name: name.trim(),
            primary_color: primary,
            accent_color: accent,
            logo_base64: logo ? await base64Of(logo.file) : null,
            remove_logo: removeLogo && !logo,
            support_email: email.trim() || null,
            support_phone: phone.trim() || null,
          },
        }),
      ),
    onSuccess: (saved) => {
      client.setQueryData(["console", "settings", "branding"], saved);
      setLogo(null);
      setRemoveLogo(false);
      void client.invalidateQueries({ queryKey: siteQuery.queryKey });
      void client.invalidateQueries({ queryKey: ["console", "onboarding"] });
    },
  });

  const logoUrl = logo?.url ?? (removeLogo ? null : current.logo_url);
  function pick(file: File | undefined) {
    setLogoError(null);
    if (!file) return;
    if (file.size > LOGO_MAX_BYTES) {
      setLogoError(t("settings.branding.logoTooBig"));
      return;
    }
    setLogo({ file, url: URL.createObjectURL(file) });
  }
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!save.isPending) save.mutate();
  }

  return (
    <div className="stack branding-page">
      <header className="page-header">
        <h1>{t("settings.branding.title")}</h1>
        <p className="muted">{t("settings.branding.intro")}</p>
      </header>
      <div className="branding-layout">
        <form className="card form" onSubmit={submit} data-testid="branding-form">
          <Field label={t("settings.branding.name")}>
            {(control) => (
              <input
                {...control}
                required
                maxLength={200}
                value={name}
                onChange={(e) => {
                  setName(e.target.value);
                }}
                data-testid="branding-name"
              />
            )}
          </Field>
          <div className="branding-colors">
            <Field label={t("settings.branding.primary")}>
              {(control) => (
                <input
                  {...control}
                  type="color"
                  value={primary}
                  onChange={(e) => {
                    setPrimary(e.target.value);
                  }}
                  data-testid="branding-primary"
                />
              )}
            </Field>
            <Field label={t("settings.branding.accent")}>
              {(control) => (
                <input
                  {...control}
                  type="color"
                  value={accent}
                  onChange={(e) => {
                    setAccent(e.target.value);
                  }}
                  data-testid="branding-accent"
                />
              )}
            </Field>
          </div>
          <Field label={t("settings.branding.logo")} hint={t("settings.branding.logoHint")}>
            {(control) => (
              <input
                {...control}
                type="file"
                accept="image/png,image/jpeg,image/webp"
                onChange={(e) => {
                  pick(e.target.files?.[0]);
                }}
                data-testid="branding-logo"
              />
            )}
          </Field>
          {logoError && <p className="field__error">{logoError}</p>}
          {current.logo_url && !logo && (
            <label className="checkbox">
              <input
                type="checkbox"
                checked={removeLogo}
                onChange={(e) => {
                  setRemoveLogo(e.target.checked);
                }}
              />{" "}
              {t("settings.branding.removeLogo")}
            </label>
          )}
          <Field label={t("settings.branding.supportEmail")}>
            {(control) => (
              <input
                {...control}
                type="email"
                maxLength={254}
                value={email}
                onChange={(e) => {
                  setEmail(e.target.value);
                }}
                data-testid="branding-email"
              />
            )}
          </Field>
          <Field label={t("settings.branding.supportPhone")}>
            {(control) => (
              <input
                {...control}
                type="tel"
                maxLength={40}
                value={phone}
                onChange={(e) => {
                  setPhone(e.target.value);
                }}
                data-testid="branding-phone"
              />
            )}
          </Field>
          {save.isError && <ErrorNotice error={save.error} />}
          {save.isSuccess && (
            <p className="notice notice--success" role="status" data-testid="branding-saved">
              {t("settings.branding.saved")}
            </p>
          )}
          <button type="submit" className="button button--primary" disabled={save.isPending} data-testid="branding-save">
            {save.isPending ? t("settings.branding.saving") : t("settings.branding.save")}
          </button>
        </form>
        <section className="card branding-preview" aria-label={t("settings.branding.preview")} data-testid="branding-preview">
          <p className="muted branding-preview__label">{t("settings.branding.preview")}</p>
          <div className="branding-preview__bar" style={{ background: primary }}>
            {logoUrl && <img src={logoUrl} alt="" className="branding-preview__logo" />}
            <strong>{name || "—"}</strong>
          </div>
          <div className="branding-preview__body">
            <p className="branding-preview__balance">1 250,00 ₽</p>
            <span className="branding-preview__button" style={{ background: primary }}>
              {t("settings.branding.previewPay")}
            </span>
            <span className="branding-preview__badge" style={{ background: accent }}>
              {t("settings.branding.previewPromo")}
            </span>
            {(email || phone) && (
              <p className="muted branding-preview__contacts">{[phone, email].filter(Boolean).join(" · ")}</p>
            )}
          </div>
        </section>
      </div>
    </div>
  );
}
