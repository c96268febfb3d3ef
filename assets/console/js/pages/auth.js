// Sign in / create an account.
import {field, formValues, h, mount, showErrors} from "../dom.js";
import {t} from "../i18n.js";
import {login, register} from "../api.js";
import {go} from "../app.js";

export function render(main, r) {
  const next = r.query.get("next") || "/live";
  const isRegister = r.name === "register";
  const submit = h("button", {type: "submit", class: "primary", id: "auth-submit"},
    isRegister ? t("auth.create") : t("auth.signIn"));
  const form = h("form", {class: "card auth-form", id: isRegister ? "register-form" : "login-form", novalidate: true},
    h("h1", null, isRegister ? t("auth.registerTitle") : t("auth.loginTitle")),
    h("p", {class: "form-error", role: "alert"}),
    field(t("auth.email"), {type: "email", name: "email", required: true, autocomplete: "email", id: "auth-email"}),
    isRegister && field(t("auth.username"), {name: "username", required: true, autocomplete: "username",
      id: "auth-username", minlength: 3, maxlength: 30}),
    field(t("auth.password"), {type: "password", name: "password", required: true, id: "auth-password",
      autocomplete: isRegister ? "new-password" : "current-password"}),
    isRegister && field(t("auth.country"), {name: "country", required: true, value: "NP", id: "auth-country",
      maxlength: 2, autocomplete: "country"}),
    isRegister && field(t("auth.birthDate"), {type: "date", name: "birthDate", required: true, id: "auth-birth"}),
    submit,
    h("p", null, isRegister
      ? h("a", {href: `#/login?next=${encodeURIComponent(next)}`}, t("auth.haveAccount"))
      : h("a", {href: `#/register?next=${encodeURIComponent(next)}`}, t("auth.noAccount"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    const v = formValues(form);
    try {
      if (isRegister) await register({...v, country: (v.country || "").toUpperCase()});
      else await login(v.email, v.password);
      go(next.startsWith("/") ? next : "/live");
    } catch (err) {
      showErrors(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  mount(main, h("section", {class: "page narrow"}, form));
  form.querySelector("input").focus();
}
