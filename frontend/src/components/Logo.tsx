export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg aria-hidden="true" width={size} height={size} viewBox="0 0 32 32" className="logo">
      <rect width="32" height="32" rx="7" fill="#0b5c55" />
      <path
        d="M7 22 13 11l5 8 3-5 4 8"
        fill="none"
        stroke="#fff"
        strokeWidth="2.6"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
