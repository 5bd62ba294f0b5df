// Asset-class colours: the teal family for stocks, blues for bonds, warm tones for real assets.
export const ASSET_CLASS_COLORS: Record<string, string> = {
  us_equity: "#0b5c55",
  intl_developed_equity: "#2a9d8f",
  emerging_equity: "#7cc6b8",
  real_estate: "#d98c2b",
  us_aggregate_bonds: "#34568b",
  treasuries: "#5b7db1",
  tips: "#9bb5d6",
  corporate_bonds: "#2b3a55",
  gold: "#c9a227",
  cash: "#a3adb8",
};

export function assetClassColor(assetClass: string): string {
  return ASSET_CLASS_COLORS[assetClass] ?? "#7d8a96";
}

export const ACCENT = "#0b5c55";
export const ACCENT_SOFT = "#cfe5e2";
export const GRID = "#e4e9e8";
export const AXIS = "#5b6670";
