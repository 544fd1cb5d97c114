// Print button on the certificate page (no inline scripts: the CSP forbids them).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
