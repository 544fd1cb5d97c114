// LTI pages: send the deep-linking reply to the platform at once (the button stays for
// browsers without JavaScript), and tell the platform a Dynamic Registration is complete.
document.querySelectorAll("form[data-autosubmit]").forEach((form) => form.submit());
if (document.querySelector("[data-lti-registered]")) {
  (window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
}
